/** The shape of a simulated WeChat endpoint: what its handler is given and answers (shared by the route tables). */
import type { SimResponse } from './http-util';
import type { MiniProgramRecord, PushRequest, SimState } from './state';

export type Answer = SimResponse | Promise<SimResponse>;

export interface ApiContext {
  readonly state: SimState;
  readonly query: URLSearchParams;
  /** The JSON body; `undefined` when the body was empty. */
  readonly body: unknown;
  /** Queues a push (the ticket push of api_start_push_ticket); never awaited by the handler. */
  readonly emit: (push: PushRequest) => void;
}

export interface AuthorizerContext extends ApiContext {
  readonly mp: MiniProgramRecord;
}

export type ApiRoute =
  | { method: 'GET' | 'POST'; path: string; auth: 'none' | 'component'; handle: (ctx: ApiContext) => Answer }
  | {
      method: 'GET' | 'POST';
      path: string;
      auth: 'authorizer';
      /** The permission set the mini program must have granted (else 61007). */
      scope: number;
      /** How its errcode answers are labelled, when not `application/json` (a file download's). */
      errorContentType?: string;
      handle: (ctx: AuthorizerContext) => Answer;
    };
