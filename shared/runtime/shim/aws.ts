/**
 * AWS Lambda: API Gateway REST (proxy integration, payload 1.0), HTTP API / function URL (payload 2.0),
 * EventBridge scheduled rule. Sources: API Gateway developer guide "set-up-lambda-proxy-integrations" and
 * "http-api-develop-integrations-lambda"; Lambda developer guide "services-cloudwatchevents".
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import * as z from '../../domain/zod';
import {
  buildContext,
  buildHttpEvent,
  checkResult,
  decodeRawEvent,
  gatewayHttpSchema,
  type Pair,
  pairsFromQueryString,
  pairsOf,
  parseLenient,
  parseOptions,
  parseWith,
  type ScheduledEvent,
  scheduledEvent,
  stringMap,
} from './common';

/** What payload 1.0 and 2.0 carry alike: single-value headers and query, path parameters, stage variables, body. */
const requestFields = () => ({
  headers: stringMap(),
  queryStringParameters: stringMap(),
  pathParameters: stringMap(),
  stageVariables: stringMap(),
  body: z.nullish(z.string()),
  isBase64Encoded: z.nullish(z.boolean()),
});

const v1EventSchema = /* @__PURE__ */ z.builtOnFirstUse(() => {
  const multiMap = z.nullish(z.record(z.string(), z.array(z.string())));
  return z.object({
    resource: z.optional(z.string()),
    path: z.string(),
    httpMethod: z.string().check(z.minLength(1)),
    ...requestFields(),
    multiValueHeaders: multiMap,
    multiValueQueryStringParameters: multiMap,
    requestContext: z.object({
      accountId: z.optional(z.string()),
      apiId: z.optional(z.string()),
      authorizer: z.nullish(z.record(z.string(), z.unknown())),
      domainName: z.optional(z.string()),
      protocol: z.optional(z.string()),
      requestId: z.optional(z.string()),
      requestTimeEpoch: z.optional(z.number()),
      stage: z.optional(z.string()),
      identity: z.optional(z.object({ sourceIp: z.optional(z.string()), userAgent: z.nullish(z.string()) })),
    }),
  });
});
export type AwsV1Event = z.infer<ReturnType<typeof v1EventSchema>>;

const v2EventSchema = /* @__PURE__ */ z.builtOnFirstUse(() =>
  z.object({
    version: z.literal('2.0'),
    routeKey: z.optional(z.string()),
    rawPath: z.string(),
    rawQueryString: z.optional(z.string()),
    cookies: z.optional(z.array(z.string())),
    ...requestFields(),
    requestContext: z.object({
      accountId: z.optional(z.string()),
      apiId: z.optional(z.string()),
      domainName: z.optional(z.string()),
      http: gatewayHttpSchema(),
      requestId: z.optional(z.string()),
      stage: z.optional(z.string()),
      timeEpoch: z.optional(z.number()),
    }),
  }),
);
export type AwsV2Event = z.infer<ReturnType<typeof v2EventSchema>>;

const scheduleEventSchema = /* @__PURE__ */ z.builtOnFirstUse(() =>
  z.object({
    source: z.literal('aws.events'),
    'detail-type': z.literal('Scheduled Event'),
    time: z.string(),
    resources: z.array(z.string()).check(z.minLength(1)),
    detail: z.nullish(z.record(z.string(), z.unknown())),
  }),
);
export type AwsScheduleEvent = z.infer<ReturnType<typeof scheduleEventSchema>>;

const contextSchema = /* @__PURE__ */ z.builtOnFirstUse(() =>
  z.object({
    awsRequestId: z.catch(z.optional(z.string()), undefined),
    functionName: z.catch(z.optional(z.string()), undefined),
    functionVersion: z.catch(z.optional(z.string()), undefined),
    memoryLimitInMB: z.catch(z.optional(z.union([z.string(), z.number()])), undefined),
  }),
);

const realContextSchema = /* @__PURE__ */ z.builtOnFirstUse(() =>
  z.looseObject({
    awsRequestId: z.string(),
    functionName: z.string(),
    getRemainingTimeInMillis: z.custom<() => number>((value) => typeof value === 'function'),
  }),
);

const isLambdaContext = (value: unknown): value is Context => {
  const schema = realContextSchema();
  return schema.safeParse(value, parseOptions(schema)).success;
};

const requestIdFromContext = (rawContext: unknown): string | undefined => parseLenient(contextSchema(), rawContext).awsRequestId;

/** Every occurrence from `multiValue*`, plus single-value keys it lacks (AWS merges the two the same way). */
function mergePairs(single: Record<string, string> | null | undefined, multi: Record<string, string[]> | null | undefined): Pair[] {
  const pairs = pairsOf(multi);
  const seen = new Set(pairs.map(([name]) => name.toLowerCase()));
  return [...pairs, ...pairsOf(single).filter(([name]) => !seen.has(name.toLowerCase()))];
}

export function awsV1ToHttpEvent(raw: unknown, rawContext: unknown, receivedAtMs: number): APIGatewayProxyEvent {
  const event = parseWith('aws-v1', v1EventSchema(), decodeRawEvent('aws-v1', raw));
  const { requestContext: rc } = event;
  return buildHttpEvent({
    method: event.httpMethod,
    path: event.path,
    resource: event.resource ?? event.path,
    headers: mergePairs(event.headers, event.multiValueHeaders),
    query: mergePairs(event.queryStringParameters, event.multiValueQueryStringParameters),
    pathParameters: event.pathParameters,
    stageVariables: event.stageVariables,
    body: event.body,
    isBase64Encoded: event.isBase64Encoded ?? false,
    requestId: rc.requestId ?? requestIdFromContext(rawContext) ?? '',
    sourceIp: rc.identity?.sourceIp ?? '',
    stage: rc.stage ?? '',
    accountId: rc.accountId,
    apiId: rc.apiId,
    domainName: rc.domainName,
    protocol: rc.protocol,
    // Of the identity only sourceIp and userAgent are carried (the canonical event nulls the rest); the
    // authorizer context is passed through because that is where API GW puts the caller's verified claims.
    userAgent: rc.identity?.userAgent ?? undefined,
    authorizer: rc.authorizer,
    requestTimeEpoch: rc.requestTimeEpoch ?? receivedAtMs,
  });
}

export function awsV2ToHttpEvent(raw: unknown, rawContext: unknown, receivedAtMs: number): APIGatewayProxyEvent {
  const event = parseWith('aws-v2', v2EventSchema(), decodeRawEvent('aws-v2', raw));
  const { requestContext: rc } = event;
  const headers = pairsOf(event.headers);
  // Payload 2.0 moves Cookie headers into `cookies`; put them back so handlers find them where v1 has them.
  if (!headers.some(([name]) => name.toLowerCase() === 'cookie')) {
    for (const cookie of event.cookies ?? []) headers.push(['cookie', cookie]);
  }
  // The raw query string keeps repeated keys apart; `queryStringParameters` has them comma-joined.
  const query = event.rawQueryString === undefined ? pairsOf(event.queryStringParameters) : pairsFromQueryString(event.rawQueryString);
  const path = rc.http.path ?? event.rawPath;
  const routePath = event.routeKey?.split(' ')[1];
  return buildHttpEvent({
    method: rc.http.method,
    path,
    resource: routePath ?? path,
    headers,
    query,
    pathParameters: event.pathParameters,
    stageVariables: event.stageVariables,
    body: event.body,
    isBase64Encoded: event.isBase64Encoded ?? false,
    requestId: rc.requestId ?? requestIdFromContext(rawContext) ?? '',
    sourceIp: rc.http.sourceIp ?? '',
    stage: rc.stage ?? '',
    accountId: rc.accountId,
    apiId: rc.apiId,
    domainName: rc.domainName,
    protocol: rc.http.protocol,
    userAgent: rc.http.userAgent,
    requestTimeEpoch: rc.timeEpoch ?? receivedAtMs,
  });
}

type StringMap = Record<string, string>;

/** REST v1 understands `multiValueHeaders` itself, so the result passes through with values made strings. */
export function toAwsV1Result(result: APIGatewayProxyResult): {
  statusCode: number;
  headers: StringMap;
  multiValueHeaders: Record<string, string[]>;
  body: string;
  isBase64Encoded: boolean;
} {
  const checked = checkResult(result);
  const headers: StringMap = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) multiValueHeaders[name] = values.map(String);
  return { statusCode: checked.statusCode, headers, multiValueHeaders, body: checked.body, isBase64Encoded: checked.isBase64Encoded };
}

/** Payload 2.0 has no multi-value headers: Set-Cookie goes to `cookies` (one per cookie), the rest are comma-joined. */
export function toAwsV2Result(result: APIGatewayProxyResult): {
  statusCode: number;
  headers: StringMap;
  cookies: string[];
  body: string;
  isBase64Encoded: boolean;
} {
  const checked = checkResult(result);
  const headers: StringMap = {};
  const cookies: string[] = [];
  for (const [name, value] of checked.headers) {
    if (name === 'set-cookie') cookies.push(value);
    else headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  return { statusCode: checked.statusCode, headers, cookies, body: checked.body, isBase64Encoded: checked.isBase64Encoded };
}

export function awsScheduleToScheduledEvent(raw: unknown): ScheduledEvent {
  const event = parseWith('aws-schedule', scheduleEventSchema(), decodeRawEvent('aws-schedule', raw));
  // arn:aws:events:<region>:<account>:rule/[<bus>/]<rule-name>: the rule name is the last segment.
  const [ruleArn = ''] = event.resources;
  const detail = event.detail ?? {};
  return scheduledEvent('aws-schedule', {
    triggerName: ruleArn.slice(ruleArn.lastIndexOf('/') + 1),
    time: { field: 'time', value: event.time },
    payload: Object.keys(detail).length > 0 ? JSON.stringify(detail) : undefined,
  });
}

/** On Lambda the real context is kept as is, with its own getRemainingTimeInMillis; only a partial one is rebuilt. */
export function awsContext(rawContext: unknown, startedAtMs: number, now: () => number): Context {
  if (isLambdaContext(rawContext)) return rawContext;
  const ctx = parseLenient(contextSchema(), rawContext);
  const memory = ctx.memoryLimitInMB === undefined ? undefined : Number(ctx.memoryLimitInMB);
  return buildContext(
    rawContext,
    { functionName: ctx.functionName, functionVersion: ctx.functionVersion, requestId: ctx.awsRequestId, memoryLimitInMB: memory },
    startedAtMs,
    now,
  );
}
