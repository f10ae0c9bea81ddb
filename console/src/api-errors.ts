/**
 * The API words its errors in English; the console says them in the reader's language. An error is recognised by
 * its stable `code` (and a field error by its `field`), never by its message; an unknown code shows the API's own
 * message. test/console/error-texts.test.ts fails when the backend gains a code this table does not translate.
 * Nothing here touches the DOM, so that test reads the table directly.
 */
/** A text in both languages, the reader's picked (i18n.ts gives the current one). */
export type T = (zh: string, en: string) => string;

/** The error envelope every route answers with (README: `{ error: { code, message, field?, issues?, details? } }`). */
export interface ApiErrorBody {
  code: string;
  message: string;
  field?: string;
  issues?: { path: string; message: string }[];
  details?: Record<string, unknown>;
}

type Text = readonly [zh: string, en: string];

/** Every code a console call can be answered with (the backend's codes that only WeChat or a log sees are not here). */
export const ERROR_TEXTS: Readonly<Record<string, Text>> = {
  // Signing in and the key
  API_KEY_MISSING: ['请输入 API 密钥。', 'Enter an API key.'],
  API_KEY_INVALID: ['API 密钥无效（可能已被轮换）。', 'The API key is not valid (it may have been rotated).'],
  UNAUTHENTICATED: ['请重新登录。', 'Sign in again.'],
  ACCOUNT_REQUIRED: ['此操作需要账号的 API 密钥。', 'This needs an account’s API key.'],
  FORBIDDEN: ['没有权限执行此操作。', 'This is not allowed with this key.'],
  // Not found
  NOT_FOUND: ['未找到。', 'Not found.'],
  ROUTE_NOT_FOUND: ['控制台请求了不存在的接口，请刷新页面。', 'The console asked for an API that does not exist: reload the page.'],
  ACCOUNT_NOT_FOUND: ['账号不存在。', 'No such account.'],
  APP_NOT_FOUND: ['应用不存在。', 'No such app.'],
  ASSET_NOT_FOUND: ['图片不存在。', 'No such image.'],
  DEPLOYMENT_NOT_FOUND: ['部署不存在。', 'No such deployment.'],
  MINI_PROGRAM_NOT_FOUND: ['小程序不存在或未授权给本账号。', 'No such mini program for this account.'],
  SCREENSHOT_NOT_FOUND: ['微信已不再提供这张审核截图。', 'WeChat no longer has this audit screenshot.'],
  QR_NOT_READY: ['体验二维码尚未生成，构建完成后再试。', 'The experience QR code is not ready: try again once the build is done.'],
  WEBHOOK_NOT_FOUND: ['Webhook 不存在。', 'No such webhook.'],
  WEBHOOK_EVENT_NOT_FOUND: ['该 Webhook 事件不存在。', 'No such webhook event.'],
  // Bad input
  VALIDATION_FAILED: ['填写有误，请检查标出的字段。', 'Something is filled in wrong: see the marked fields.'],
  INVALID_BODY: ['填写有误，请检查标出的字段。', 'Something is filled in wrong: see the marked fields.'],
  INVALID_QUERY: ['请求参数有误。', 'The request’s parameters are wrong.'],
  INVALID_PATH: ['地址中的 ID 格式不正确。', 'An id in the address is malformed.'],
  PATH_NOT_CANONICAL: ['地址格式不正确。', 'The address is malformed.'],
  INVALID_JSON: ['请求内容不是有效的 JSON。', 'The request is not valid JSON.'],
  JSON_TOO_DEEP: ['JSON 嵌套层级过深。', 'The JSON is nested too deeply.'],
  APP_CONFIG_INVALID: ['应用配置有误，请检查标出的字段。', 'The app’s config has mistakes: see the marked fields.'],
  APP_HAS_NO_THEME: ['只有 IoT Video 应用有主题配色。', 'Only IoT Video apps have theme colours.'],
  APP_HAS_NO_PRODUCTS: ['只有 IoT Video 应用可关联产品。', 'Only IoT Video apps are linked to products.'],
  IMAGE_INVALID: ['图片无法识别：请上传 PNG、JPEG 或 GIF。', 'The image cannot be read: upload a PNG, JPEG or GIF.'],
  IMAGE_TYPE_MISMATCH: ['图片内容与其类型不符。', 'The image’s content does not match its type.'],
  PAYLOAD_TOO_LARGE: ['文件过大。', 'The file is too large.'],
  UNSUPPORTED_MEDIA_TYPE: ['不支持的文件类型。', 'This type of file is not accepted.'],
  METHOD_NOT_ALLOWED: ['接口不支持此操作，请刷新页面。', 'The API does not allow this: reload the page.'],
  TOO_MANY_TESTERS: ['体验者过多。', 'Too many testers.'],
  IDEMPOTENCY_KEY_INVALID: ['请求标识无效。', 'The request’s idempotency key is not valid.'],
  IDEMPOTENCY_KEY_REUSED: ['同一请求标识被用于不同的请求。', 'The idempotency key was used for another request.'],
  IDEMPOTENCY_KEY_IN_USE: ['同一请求正在处理中，请稍后再试。', 'The same request is still being handled: try again shortly.'],
  WEBHOOK_URL_REFUSED: ['不接受该 Webhook 地址。', 'This webhook URL is not accepted.'],
  WEBHOOK_EVENT_TYPE_NOT_ALLOWED: ['不支持该事件类型。', 'This event type is not offered.'],
  WEBHOOK_ENDPOINT_LIMIT: ['Webhook 数量已达上限。', 'The limit of webhook endpoints is reached.'],
  // The seeds' rules
  PRIMARY_NOT_BOUND: ['请先绑定账号的主小程序。', 'Bind the account’s primary mini program first.'],
  SUBJECT_MISMATCH: ['该小程序与账号的主小程序不是同一主体。', 'This mini program’s subject is not the primary’s.'],
  PRIMARY_SUBJECT_CHANGE_NEEDS_FORCE: [
    '新的主小程序主体不同：更换后其他主体的小程序将不可发布。',
    'The new primary has another subject: mini programs of the old subject could no longer publish.',
  ],
  PRIMARY_UNBIND_NEEDS_FORCE: [
    '解绑授权后将导致其他小程序不可发布，请谨慎操作。',
    'Unbinding it stops every other mini program of the account from publishing.',
  ],
  PERMISSIONS_MISSING: [
    '授权时未勾选必需的权限：请管理员重新扫码并勾选全部权限。',
    'Permissions were left out at authorization: the admin scans again and grants them all.',
  ],
  PLUGIN_MISSING: [
    '小程序尚未添加所需插件：请在小程序管理后台添加后重试。',
    'The mini program has not added a required plugin: add it in its admin console and try again.',
  ],
  NOT_A_MINI_PROGRAM: ['扫码授权的不是小程序（可能是公众号）。', 'What was authorized is not a mini program.'],
  NO_AUTHORIZED_MINI_PROGRAM: ['应用尚未授权小程序。', 'The app has no authorized mini program.'],
  MINI_PROGRAM_NEEDS_REAUTH: ['授权已失效：请小程序管理员重新扫码授权。', 'The authorization lapsed: the admin scans again.'],
  MINI_PROGRAM_NOT_AUTHORIZED: ['小程序已取消授权：请重新扫码授权。', 'The mini program revoked its authorization: authorize it again.'],
  APP_NOT_LINKED: ['该小程序没有关联应用。', 'No app is linked to this mini program.'],
  DOMAINS_NOT_SET: ['尚未设置服务器域名。', 'The server domains are not set yet.'],
  PRIVACY_GUIDE_INCOMPLETE: ['用户隐私保护指引未填写完整。', 'The privacy guide is incomplete.'],
  NOTHING_TO_DECLARE: [
    '尚未发现需声明的用户信息，构建上传代码后会自动设置。',
    'No user information is known to be collected yet: the build sets the guide after its upload.',
  ],
  NOT_READY_TO_GO_LIVE: ['小程序尚未满足上线条件。', 'The mini program is not ready to go live.'],
  // The authorization page (its callback), when the console shows its outcome
  AUTH_STATE_INVALID: ['授权链接已失效，请重新生成二维码。', 'The authorization link expired: make a new QR code.'],
  AUTH_CODE_MISSING: ['微信未返回授权码，请重新扫码。', 'WeChat sent no authorization code: scan again.'],
  AUTH_CODE_USED: ['该二维码已使用过，请重新生成。', 'This QR code was used already: make a new one.'],
  AUTH_CODE_EXPIRED: ['授权码已过期，请重新扫码。', 'The authorization code expired: scan again.'],
  AUTH_IN_PROGRESS: ['授权正在处理中，请稍候。', 'The authorization is still being handled: wait a moment.'],
  // Deployments: the state forbids the action (someone else, or WeChat, moved it on)
  DEPLOYMENT_ALREADY_OPEN: [
    '该应用已有进行中的部署：请先完成或取消它。',
    'This app has a deployment in progress: finish or cancel it first.',
  ],
  DEPLOYMENT_INVALID_TRANSITION: [
    '部署的状态已变化，无法执行此操作；页面已刷新。',
    'The deployment has moved on and cannot do this now; the page is up to date.',
  ],
  DEPLOYMENT_CLOSED: ['该部署已结束，请新建部署。', 'This deployment is closed: build a new one.'],
  DEPLOYMENT_FAILED: ['部署已失败：可重试或取消。', 'The deployment failed: retry or cancel it.'],
  DEPLOYMENT_NOT_BUILT: ['尚未生成体验版。', 'There is no experience version yet.'],
  DEPLOYMENT_NOT_APPROVED: ['审核尚未通过，不能发布。', 'WeChat has not approved it: it cannot be released.'],
  DEPLOYMENT_NOT_IN_REVIEW: ['该版本不在审核中。', 'This version is not in review.'],
  DEPLOYMENT_IN_REVIEW: ['审核中的版本不能取消：请先撤回审核。', 'A version in review cannot be cancelled: withdraw the audit first.'],
  DEPLOYMENT_NOT_RELEASED: ['该版本未发布，不能回退。', 'This version is not released: it cannot be rolled back.'],
  DEPLOYMENT_NOT_RETRYABLE: ['该失败不可重试。', 'This failure cannot be retried.'],
  DEPLOYMENT_AUDIT_MISMATCH: ['微信的审核单与记录不符。', 'WeChat’s audit is not the one recorded.'],
  DEPLOYMENT_APP_UNLINKED: [
    '应用已不再关联该小程序：请重新授权并新建部署。',
    'The app no longer has this mini program: authorize it again and build a new deployment.',
  ],
  DEPLOYMENT_BUSY: ['部署正在处理中，请几秒后再试。', 'The deployment is being worked on: try again in a few seconds.'],
  ROLLOUT_SELECTION_INVALID: [
    '发布批次的选择有误：请检查所选应用或模板。',
    'The rollout selects apps that cannot be chosen: check the apps or templates.',
  ],
  ROLLOUT_SELECTION_EMPTY: ['发布批次没有选中任何应用。', 'The rollout selects no app.'],
  ROLLOUT_NOT_FOUND: ['找不到该发布批次。', 'No such rollout.'],
  ROLLOUT_INVALID_TRANSITION: [
    '发布批次的状态已变化，无法执行此操作；页面已刷新。',
    'The rollout has moved on and cannot do this now; the page is up to date.',
  ],
  ROLLOUT_MEMBER_INVALID_TRANSITION: [
    '该应用在发布批次中的当前状态下不能进行此操作。',
    'That member of the rollout cannot do that in its current state.',
  ],
  ROLLOUT_CLOSED: ['发布批次已结束（已完成或已中止）。', 'The rollout has ended (completed or aborted).'],
  ROLLBACK_ALREADY_USED: ['每次发布只能回退一次，已回退过。', 'This release was rolled back already (once per release).'],
  ROLLBACK_NO_PREVIOUS_VERSION: ['没有可回退的上一个版本。', 'There is no previous version to roll back to.'],
  // Somebody else wrote first, or a dependency failed
  VERSION_CONFLICT: ['数据刚被修改，请刷新后重试。', 'It was changed meanwhile: reload and try again.'],
  DUPLICATE_KEY: ['已存在，请勿重复创建。', 'It exists already.'],
  CONFLICT_RETRIES_EXHAUSTED: ['同时修改的请求过多，请稍后重试。', 'Too many changes at once: try again shortly.'],
  WECHAT_UNREACHABLE: ['暂时无法连接微信，请稍后重试。', 'WeChat cannot be reached right now: try again later.'],
  WECHAT_BAD_RESPONSE: ['微信返回了无法识别的应答，请稍后重试。', 'WeChat answered something unreadable: try again later.'],
  WECHAT_SYSTEM_ERROR: ['微信系统繁忙，请稍后重试。', 'WeChat is busy: try again later.'],
  WECHAT_TOKEN_UNAVAILABLE: ['暂时无法获取微信凭证，请稍后重试。', 'No WeChat credential can be had right now: try again later.'],
  WECHAT_NO_VERIFY_TICKET: [
    '尚未收到微信推送的 component_verify_ticket，请稍后重试。',
    'WeChat has not pushed its verify ticket yet: try again later.',
  ],
  WECHAT_REQUEST_INVALID: ['发给微信的请求有误。', 'The request to WeChat was malformed.'],
  TIMEOUT: ['请求超时，可安全重试。', 'The request timed out; it is safe to retry.'],
  INTERNAL_ERROR: ['服务内部错误，请稍后重试。', 'Internal error: try again later.'],
};

/**
 * Field errors by field path (`*` for an index or a key): the rule the field follows, which is what the API's
 * message says of it. A field not listed keeps the API's message.
 */
export const FIELD_TEXTS: Readonly<Record<string, Text>> = {
  name: ['名称为 1–64 个字符。', 'A name is 1–64 characters.'],
  templateId: ['请选择模板。', 'Choose a template.'],
  userVersion: ['版本号为 1–64 个字符，例如 1.0.0。', 'A version is 1–64 characters, e.g. 1.0.0.'],
  userDesc: ['版本描述最多 1000 个字符。', 'A description is at most 1000 characters.'],
  testers: ['最多 100 个体验者，每个微信号 1–64 个字符。', 'At most 100 testers, each WeChat id 1–64 characters.'],
  'testers.*': ['微信号为 1–64 个字符。', 'A WeChat id is 1–64 characters.'],
  selection: ['请至少选择一个应用。', 'Choose at least one app.'],
  'selection.appIds': ['请至少选择一个应用。', 'Choose at least one app.'],
  'waves.canary.count': ['金丝雀批次为 1–10000 个应用。', 'The canary is 1–10,000 apps.'],
  'waves.percents': [
    '比例逐批递增，每个大于 0、不超过 100，最后一批为 100，最多 20 批。',
    'Shares grow wave by wave, each over 0 and at most 100, the last 100, at most 20 waves.',
  ],
  'waves.percents.*': ['每个比例为大于 0、不超过 100 的数。', 'Each share is a number over 0 and at most 100.'],
  productIds: ['产品 ID 不能重复，最多 100 个。', 'Each product once, at most 100.'],
  'productIds.*': ['产品 ID 为 10 位大写字母或数字。', 'A product id is 10 upper-case letters or digits.'],
  'config.mapKey': ['地图 key 格式为 XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX。', 'A map key looks like XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX.'],
  'config.reminders': ['请至少选择一个产品品类，每个品类一次。', 'Choose at least one category, each once.'],
  'config.reminders.*.category': ['每个品类只能选择一次。', 'Each category once.'],
  'config.reminders.*.defaultProductId': ['产品 ID 为 10 位大写字母或数字。', 'A product id is 10 upper-case letters or digits.'],
  'config.reminders.*.modelId': ['model_id 为 1–64 位字母、数字、- 或 _。', 'A model_id is 1–64 letters, digits, - or _.'],
  'config.reminders.*.messageTemplateId': [
    '消息模板 ID 为 8–64 位字母、数字、- 或 _。',
    'A message template id is 8–64 letters, digits, - or _.',
  ],
  'config.afterSales.phone': [
    '电话为 5–20 位数字，可用空格或 - 分隔。',
    'A phone number is 5–20 digits, optionally separated by spaces or -.',
  ],
  'config.afterSales.feedbackGuide': ['反馈指引为 1–500 个字符。', 'A feedback guide is 1–500 characters.'],
  'config.productManuals': ['最多 20 份产品使用说明。', 'At most 20 product manuals.'],
  'config.productManuals.*.name': ['产品名称为 1–32 个字符。', 'A product name is 1–32 characters.'],
  'config.theme.mainColor': ['颜色格式为 #RRGGBB，例如 #07C160。', 'A colour is #RRGGBB, e.g. #07C160.'],
  'config.theme.secondaryColor': ['颜色格式为 #RRGGBB，例如 #07C160。', 'A colour is #RRGGBB, e.g. #07C160.'],
  'config.ext': ['ext 须为 JSON 对象。', 'ext is a JSON object.'],
  requiredPlugins: ['最多 20 个插件，每个插件只添加一次。', 'At most 20 plugins, each once.'],
  'requiredPlugins.*': ['该插件重复添加。', 'This plugin is listed twice.'],
  'requiredPlugins.*.alias': [
    '别名须以字母、_ 或 $ 开头，由字母、数字、_、$ 或 - 组成（最多 64 个）。',
    'An alias starts with a letter, _ or $ and has letters, digits, _, $ or - (at most 64).',
  ],
  'requiredPlugins.*.appId': ['请填写插件 AppID。', 'Enter the plugin’s AppID.'],
  'requiredPlugins.*.version': ['版本为 1–32 个字符。', 'A version is 1–32 characters.'],
  'requiredPlugins.*.name': ['插件名称为 1–64 个字符。', 'A plugin name is 1–64 characters.'],
};

/** Image fields: an issue there is about the uploaded image (missing, not an image), whatever its path. */
const IMAGE_FIELD =
  /^config\.(afterSales\.appDownloadQrImage|instructionsImage|homeBottomImage|doorLockTopImage|productManuals\.\d+\.image)$/;
const IMAGE_TEXT: Text = ['请重新上传图片（PNG、JPEG 或 GIF）。', 'Upload the image again (PNG, JPEG or GIF).'];

const wildcard = (path: string) => path.replace(/\.(\d+)(?=\.|$)/g, '.*');

/** What the reader is told of a field's issue: the field's rule in their language, or the API's message. */
export function fieldErrorText(t: T, path: string, apiMessage: string): string {
  const text = FIELD_TEXTS[path] ?? FIELD_TEXTS[wildcard(path)] ?? (IMAGE_FIELD.test(path) ? IMAGE_TEXT : undefined);
  return text ? t(...text) : apiMessage;
}

/** What the reader is told of an error: by its code in their language, or the API's message for a code unknown here. */
export function errorText(t: T, body: ApiErrorBody): string {
  const text = ERROR_TEXTS[body.code];
  if (text) return t(...text);
  const wechat = /^WECHAT_(\d+)$/.exec(body.code);
  if (wechat) return t(`微信拒绝了此操作（错误码 ${wechat[1]}）。`, body.message);
  const http = /^HTTP_(\d+)$/.exec(body.code);
  if (http) return t(`服务暂时无法访问（HTTP ${http[1]}），请稍后重试。`, `The service answered HTTP ${http[1]}: try again later.`);
  return body.message;
}
