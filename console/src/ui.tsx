/** What every page shares: the session, loading and polling, form fields that name their errors, confirmations. */
import { createContext, type ReactNode, useCallback, useContext, useEffect, useId, useRef, useState } from 'react';
import { Alert, Button, Card, Dialog, DialogPlugin, Form, Input, Loading, QRCode, Radio, Space, Textarea, Timeline } from 'tdesign-react';
import { type ApiClient, ApiError, type EndpointName, type Template } from './api';
import { errorText } from './api-errors';
import { formatTime, LangContext, type T, useT } from './i18n';

export interface Session {
  api: ApiClient;
  role: 'account' | 'admin';
  signOut(): void;
  /** After a rotation: this tab goes on with the new key (the old one stops working at the next rotation). */
  replaceKey(key: string): void;
}
export const SessionContext = createContext<Session | null>(null);
export const useSession = (): Session => {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
};

export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Loads once per change of `deps`, and again on `reload()`; keeps the last data while reloading (no flicker). */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [version, setVersion] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  // biome-ignore lint/correctness/useExhaustiveDependencies: deps are the caller's (a load function is new at every render)
  useEffect(() => {
    let live = true;
    loadRef.current().then(
      (value) => {
        if (!live) return;
        setData(value);
        setError(undefined);
      },
      (failure: unknown) => live && setError(failure),
    );
    return () => {
      live = false;
    };
  }, [...deps, version]);
  const reload = useCallback(() => setVersion((v) => v + 1), []);
  return { data, error, reload };
}

/**
 * Calls `tick` every `ms` while `active`; stops as soon as it is not (nothing in flight, page left). A hidden tab
 * (another tab in front, a locked phone) is not polled: it catches up with one tick when it is shown again.
 */
export function usePolling(active: boolean, tick: () => void, ms = 2000) {
  const tickRef = useRef(tick);
  tickRef.current = tick;
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(() => {
      if (!document.hidden) tickRef.current();
    }, ms);
    const shown = () => {
      if (!document.hidden) tickRef.current();
    };
    document.addEventListener('visibilitychange', shown);
    return () => {
      window.clearInterval(timer);
      document.removeEventListener('visibilitychange', shown);
    };
  }, [active, ms]);
}

export function LoadError({ error }: { error: unknown }) {
  const t = useT();
  if (error === undefined) return null;
  return <Alert theme="error" title={t('加载失败', 'Could not load')} message={plainError(t, error)} />;
}

export const Busy = () => {
  const t = useT();
  return <Loading size="small" text={t('加载中…', 'Loading…')} />;
};

/** A loaded list shown as cards: the load's error, a spinner until it answers, `empty` when it holds nothing. */
export function CardList<T>(props: { error: unknown; items: readonly T[] | undefined; empty: string; children: (item: T) => ReactNode }) {
  return (
    <>
      <LoadError error={props.error} />
      {props.items === undefined ? (
        props.error ? null : (
          <Busy />
        )
      ) : props.items.length === 0 ? (
        <p className="muted">{props.empty}</p>
      ) : (
        <div className="cards">{props.items.map((item) => props.children(item))}</div>
      )}
    </>
  );
}

export function PageTitle({ children, extra }: { children: ReactNode; extra?: ReactNode }) {
  return (
    <div className="page-title">
      <h1>{children}</h1>
      {extra ? <Space breakLine>{extra}</Space> : null}
    </div>
  );
}

/**
 * A form row: label, control, and the API's message for the field when it named one. The control gets the id the
 * label points at and is described by the message, so a screen reader says which field is wrong and why.
 */
export function Field(props: {
  label: string;
  error?: string | undefined;
  help?: ReactNode;
  children: (id: string, describedBy: string) => ReactNode;
}) {
  const id = useId();
  const describedBy = `${id}-help`;
  return (
    <Form.FormItem
      label={props.label}
      for={id}
      {...(props.error ? { status: 'error' as const } : {})}
      tips={props.error ?? props.help}
      className="field"
    >
      <div className="field-control" data-field-error={props.error ? 'true' : undefined}>
        {props.children(id, describedBy)}
        <span id={describedBy} className="visually-hidden">
          {props.error ?? ''}
        </span>
      </div>
    </Form.FormItem>
  );
}

/** TDesign's Input renders its <input> inside wrappers: the id, name and ARIA attributes are put on the <input> itself. */
function useInnerAttributes(
  container: React.RefObject<HTMLSpanElement | null>,
  selector: string,
  attributes: Record<string, string | undefined>,
) {
  const serialized = JSON.stringify(attributes);
  // biome-ignore lint/correctness/useExhaustiveDependencies: serialized stands for attributes (a new object at every render)
  useEffect(() => {
    const element = container.current?.querySelector(selector);
    if (!element) return;
    for (const [name, value] of Object.entries(attributes)) {
      if (value === undefined) element.removeAttribute(name);
      else element.setAttribute(name, value);
    }
  }, [serialized, selector, container]);
}

export interface TextProps {
  id: string;
  describedBy: string;
  value: string;
  onChange: (value: string) => void;
  invalid?: boolean;
  placeholder?: string;
  name?: string;
  type?: 'text' | 'password' | 'tel';
  autoComplete?: string;
}

/**
 * What an <input> and a <textarea> share: the attributes put on the element itself, and the TDesign props (value,
 * change, error state, placeholder, name).
 */
function useTextControl(props: TextProps, selector: 'input' | 'textarea', extra: Record<string, string | undefined> = {}) {
  const ref = useRef<HTMLSpanElement>(null);
  useInnerAttributes(ref, selector, {
    id: props.id,
    'aria-describedby': props.describedBy,
    'aria-invalid': props.invalid ? 'true' : undefined,
    ...extra,
    'data-name': props.name,
  });
  const control = {
    value: props.value,
    onChange: (value: unknown) => props.onChange(String(value)),
    status: props.invalid ? ('error' as const) : ('default' as const),
    ...(props.placeholder ? { placeholder: props.placeholder } : {}),
    ...(props.name ? { name: props.name } : {}),
  };
  return { ref, control };
}

export function TextInput(props: TextProps) {
  const { ref, control } = useTextControl(props, 'input', { autocomplete: props.autoComplete ?? 'off' });
  return (
    <span ref={ref} className="text-input">
      <Input {...control} type={props.type ?? 'text'} />
    </span>
  );
}

export function TextArea(props: TextProps & { rows?: number }) {
  const { ref, control } = useTextControl(props, 'textarea');
  return (
    <span ref={ref} className="text-input">
      <Textarea {...control} autosize={{ minRows: props.rows ?? 3 }} />
    </span>
  );
}

/** A labelled text input (a text area when given `rows`), marked invalid exactly when its field has an error. */
export function TextField(
  props: { label: string; error?: string | undefined; help?: ReactNode; rows?: number } & Omit<TextProps, 'id' | 'describedBy' | 'invalid'>,
) {
  const { label, error, help, rows, ...text } = props;
  return (
    <Field label={label} error={error} help={help}>
      {(id, describedBy) =>
        rows === undefined ? (
          <TextInput id={id} describedBy={describedBy} invalid={!!error} {...text} />
        ) : (
          <TextArea id={id} describedBy={describedBy} invalid={!!error} rows={rows} {...text} />
        )
      }
    </Field>
  );
}

/** A confirmation for what cannot be undone: resolves true only when the person confirms. */
export const confirm = (options: {
  header: string;
  body: ReactNode;
  confirmText: string;
  cancelText: string;
  danger?: boolean;
}): Promise<boolean> =>
  new Promise((resolve) => {
    const dialog = DialogPlugin.confirm({
      header: options.header,
      body: options.body,
      theme: options.danger ? 'warning' : 'default',
      confirmBtn: { content: options.confirmText, theme: options.danger ? 'danger' : 'primary' },
      cancelBtn: options.cancelText,
      onConfirm: () => {
        dialog.destroy();
        resolve(true);
      },
      onClose: () => {
        dialog.destroy();
        resolve(false);
      },
    });
  });

/** An image behind the API key (experience QR codes, uploads, audit screenshots): fetched with the header, shown from a blob URL. */
export function KeyedImage({
  endpoint,
  params,
  alt,
  version,
  className,
}: {
  endpoint: Extract<EndpointName, 'qrcode' | 'asset' | 'screenshot'>;
  params: Record<string, string>;
  alt: string;
  version?: string;
  className?: string;
}) {
  const { api } = useSession();
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const key = JSON.stringify(params);
  // biome-ignore lint/correctness/useExhaustiveDependencies: key stands for params (a new object at every render)
  useEffect(() => {
    let objectUrl: string | null = null;
    let live = true;
    api.call(endpoint, { params }).then(
      (blob) => {
        if (!live) return;
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      },
      (failure: unknown) => live && setError(failure),
    );
    return () => {
      live = false;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [api, endpoint, key, version]);
  if (error !== undefined) return <LoadError error={error} />;
  return url ? <img src={url} alt={alt} className={className} /> : <Busy />;
}

/**
 * The authorization: a QR code of the mobile page (a phone's WeChat scans it) and a link to the PC page for a
 * desktop browser. `onOpen` lets the caller poll for the outcome while the dialog is open.
 */
export function AuthorizationDialog(props: {
  visible: boolean;
  header: string;
  intro: ReactNode;
  body: { purpose: 'bind-primary' } | { purpose: 'authorize-app'; appId: string };
  onClose(): void;
}) {
  const t = useT();
  const { api } = useSession();
  const [urls, setUrls] = useState<{ mobile: string; pc: string } | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const bodyKey = JSON.stringify(props.body);
  // biome-ignore lint/correctness/useExhaustiveDependencies: bodyKey stands for the body (a new object at every render)
  useEffect(() => {
    if (!props.visible) return;
    let live = true;
    setUrls(null);
    setError(undefined);
    // One pre-auth code for both pages: either the phone's scan or the desktop's spends it.
    api.call('authorize', { body: props.body }).then(
      (answer) => live && setUrls({ mobile: answer.mobileUrl, pc: answer.pcUrl }),
      (failure: unknown) => live && setError(failure),
    );
    return () => {
      live = false;
    };
  }, [props.visible, bodyKey, api]);
  return (
    <Dialog
      visible={props.visible}
      header={props.header}
      onClose={props.onClose}
      footer={<Button onClick={props.onClose}>{t('关闭', 'Close')}</Button>}
      width="min(560px, 94vw)"
    >
      <div className="authorize">
        {props.intro}
        <LoadError error={error} />
        {urls ? (
          <>
            <figure className="qr">
              <NamedQrCode value={urls.mobile} name={t('授权二维码', 'Authorization QR code')} />
              <figcaption>{t('小程序管理员用手机微信扫码授权', 'The mini program’s admin scans this with WeChat on a phone')}</figcaption>
            </figure>
            <p>
              {t('或在电脑浏览器中打开：', 'Or in a desktop browser: ')}
              <a href={urls.pc} target="_blank" rel="noopener noreferrer" data-testid="pc-authorization-link">
                {t('打开授权页', 'open the authorization page')}
              </a>
            </p>
            <p className="muted">
              {t('手机链接：', 'Phone link: ')}
              <a href={urls.mobile} target="_blank" rel="noopener noreferrer" data-testid="mobile-authorization-link">
                {t('在微信中打开', 'open in WeChat')}
              </a>
            </p>
            <p className="muted">{t('授权完成后本页会自动更新。', 'This page updates by itself once the scan is done.')}</p>
          </>
        ) : error === undefined ? (
          <Busy />
        ) : null}
      </div>
    </Dialog>
  );
}

/** TDesign's QR code draws a canvas with role img and no name: it gets one. */
function NamedQrCode({ value, name }: { value: string; name: string }) {
  const ref = useRef<HTMLSpanElement>(null);
  useInnerAttributes(ref, 'canvas, svg', { 'aria-label': name });
  return (
    <span ref={ref} data-testid="authorization-qr">
      <QRCode value={value} size={200} borderless />
    </span>
  );
}

/** An error as the reader is told it: in their language by its code (api-errors.ts), the code kept for support. */
export const plainError = (t: T, error: unknown): string => {
  if (!(error instanceof ApiError)) return messageOf(error);
  return `${errorText(t, error.body)} (${error.body.code})`;
};

/** A form's errors by the names of its fields: the API's field paths relative to the body (`config.mapKey`) unless mapped. */
export type FieldErrors = ReadonlyMap<string, string>;
const NO_FIELD_ERRORS: FieldErrors = new Map();

/** `doing` is asked for only where there is more than one thing to do. */
type SubmitOptions<Doing> = true extends Doing
  ? [options?: { doing?: Doing; fields?: (failure: ApiError) => FieldErrors }]
  : [options: { doing: Doing; fields?: (failure: ApiError) => FieldErrors }];

/**
 * What every form and action button does with its call: busy while it runs (`doing`: which one, on a page of several
 * actions), and a failure said twice: next to the fields the API named (`fields` renames them the form's way) and as
 * one plain message for the form's alert; both cleared at the next submit. `refuse`: the form's own check failed
 * before any call (its field errors, no alert); `setError`: a call of the form's that is not its submit failed.
 */
export function useSubmit<Doing = true>() {
  const t = useT();
  const [doing, setDoing] = useState<Doing | null>(null);
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>(NO_FIELD_ERRORS);
  const [error, setError] = useState<string | null>(null);
  const submit = async (run: () => Promise<void>, ...[options]: SubmitOptions<Doing>): Promise<void> => {
    setError(null);
    setFieldErrors(NO_FIELD_ERRORS);
    // Without `doing` it is a form's one submit (Doing is `true`, the options' type says so).
    setDoing(options?.doing ?? (true as Doing));
    try {
      await run();
    } catch (failure) {
      if (failure instanceof ApiError) setFieldErrors(options?.fields ? options.fields(failure) : failure.fieldErrors(t));
      setError(plainError(t, failure));
    } finally {
      setDoing(null);
    }
  };
  const refuse = (fields: FieldErrors) => {
    setError(null);
    setFieldErrors(fields);
  };
  return { busy: doing !== null, doing, fieldErrors, error, submit, refuse, setError };
}

/** The button that opens a page's create form, and closes it again. */
export function FormToggle({ open, onToggle, label }: { open: boolean; onToggle(open: boolean): void; label: string }) {
  const t = useT();
  return (
    <Button theme="primary" onClick={() => onToggle(!open)}>
      {open ? t('收起', 'Close') : label}
    </Button>
  );
}

/**
 * The code template to build from: the newest of each code line (`GET /v1/templates`), `value` picked. `children`:
 * what the form says under the choice (an error, a warning).
 */
export function TemplatePicker(props: {
  templates: { data?: { templates: Template[] } | undefined; error: unknown };
  value: number | undefined;
  onChange(templateId: number): void;
  error?: string | undefined;
  children?: ReactNode;
}) {
  const t = useT();
  return (
    <fieldset className="form-section">
      <legend>{t('代码模板', 'Code template')}</legend>
      {props.templates.data ? (
        <Radio.Group value={props.value} onChange={(value) => props.onChange(Number(value))}>
          {props.templates.data.templates
            .filter((template) => template.latest)
            .map((template) => (
              <Radio key={template.templateId} value={template.templateId}>
                {`${template.templateId} · ${template.userDesc} · v${template.userVersion}`}
              </Radio>
            ))}
        </Radio.Group>
      ) : (
        <LoadError error={props.templates.error} />
      )}
      {props.error ? <p className="error-text">{props.error}</p> : null}
      {props.children}
    </fieldset>
  );
}

/** A version's number and description, as a build and a rollout ask for them. */
export function VersionFields(props: {
  errors: FieldErrors;
  version: string;
  onVersion(value: string): void;
  description: string;
  onDescription(value: string): void;
  placeholder: string;
}) {
  const t = useT();
  return (
    <>
      <TextField
        label={t('版本号', 'Version')}
        error={props.errors.get('userVersion')}
        value={props.version}
        onChange={props.onVersion}
        name="userVersion"
        placeholder={props.placeholder}
      />
      <TextField
        label={t('版本描述', 'Description')}
        error={props.errors.get('userDesc')}
        value={props.description}
        onChange={props.onDescription}
        name="userDesc"
        rows={2}
      />
    </>
  );
}

/** One change in a history: what was done, the state it moved from and to, by whom; a cause or note under it. */
export interface HistoryLine {
  at: number;
  title: string;
  /** `from → to · actor`, already worded. */
  change: string;
  cause?: string | null | undefined;
  note?: string | undefined;
  tone: 'primary' | 'success' | 'error';
}

/** A deployment's or a rollout's history, oldest first, times at the left (console.css `.history`). */
export function HistoryCard({ title, lines }: { title: string; lines: readonly HistoryLine[] }) {
  const lang = useContext(LangContext);
  return (
    <Card bordered className="gap" title={title}>
      <div data-testid="history" className="history">
        <Timeline mode="alternate" labelAlign="left">
          {lines.map((line) => (
            <Timeline.Item key={`${line.at}-${line.title}-${line.change}`} label={formatTime(lang, line.at)} dotColor={line.tone}>
              <strong>{line.title}</strong>
              <span className="muted">{` ${line.change}`}</span>
              {line.cause ? <div className="cause">{line.cause}</div> : null}
              {line.note ? <div className="muted">{line.note}</div> : null}
            </Timeline.Item>
          ))}
        </Timeline>
      </div>
    </Card>
  );
}
