/**
 * What a push route declares: its query and the media types it takes. Apart from the receiver, so that a function
 * that only lists the routes (the API's OpenAPI document) bundles no XML parser.
 */
import * as z from '../domain/zod';
import { ANY_MEDIA_TYPE } from '../runtime/http/route';

export const pushQuery = /* @__PURE__ */ z.lazy(() =>
  z.object({
    msg_signature: z.optional(z.string().check(z.maxLength(64))),
    timestamp: z.optional(z.string().check(z.maxLength(16))),
    nonce: z.optional(z.string().check(z.maxLength(64))),
    encrypt_type: z.described(
      z.optional(z.string().check(z.maxLength(16))),
      'always `aes`: third-party platforms receive in safe mode; anything else is 400 WECHAT_PUSH_NOT_ENCRYPTED',
    ),
    signature: z.optional(z.string().check(z.maxLength(64))),
    openid: z.optional(z.string().check(z.maxLength(128))),
  }),
);

/**
 * What a push route takes: any media type. WeChat's push docs (component_verify_ticket, message_push) name no
 * Content-Type, and the peers (WxJava, EasyWeChat, wechatpy) read the raw body whatever it says; the signature, not
 * the label, proves a push is WeChat's, so refusing a label could only lose real pushes. The body stays raw until
 * `receivePush` has checked its signature, and is parsed only as WeChat's XML.
 */
export const PUSH_BODY_TYPES: readonly string[] = [ANY_MEDIA_TYPE];
