/** Types for the `wechat-crypto` package (node-webot's WXBizMsgCrypt port), the crypto benchmark's baseline. */
declare module 'wechat-crypto' {
  class WXBizMsgCrypt {
    constructor(token: string, encodingAESKey: string, id: string);
    token: string;
    id: string;
    getSignature(timestamp: string, nonce: string, encrypt: string): string;
    decrypt(text: string): { message: string; id: string };
    encrypt(text: string): string;
  }
  export = WXBizMsgCrypt;
}
