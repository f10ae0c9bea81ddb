import { useState } from 'react';
import { Alert, Button, Card, Form } from 'tdesign-react';
import { useT } from '../i18n';
import { Field, TextInput, useSubmit } from '../ui';

/** The key is typed (or pasted) here and kept for this tab only; nothing else asks for it. */
export function SignInPage({ onSignIn, keyRefused }: { onSignIn(key: string): Promise<void>; keyRefused: boolean }) {
  const t = useT();
  const [key, setKey] = useState('');
  const { busy, error, submit, setError } = useSubmit();
  const signIn = () => {
    if (!key.trim()) setError(t('请输入 API 密钥', 'Enter an API key'));
    else void submit(() => onSignIn(key.trim()));
  };
  return (
    <div className="sign-in">
      <Card bordered>
        <h1>{t('登录控制台', 'Sign in to the console')}</h1>
        <p className="muted">
          {t(
            '使用账号的 API 密钥管理小程序；平台管理员使用管理员密钥创建账号。密钥只保存在本标签页中，退出即清除。',
            'Use an account API key to manage its mini programs, or the platform admin key to create accounts. The key stays in this tab only and is forgotten on sign-out.',
          )}
        </p>
        {keyRefused ? (
          <Alert
            theme="warning"
            className="gap"
            data-testid="key-refused"
            message={t(
              '密钥已失效（可能已在别处轮换），已退出。请用新密钥登录。',
              'The key stopped working (rotated elsewhere, perhaps), so this tab signed out. Sign in with the new key.',
            )}
          />
        ) : null}
        <Form labelAlign="top" onSubmit={signIn} preventSubmitDefault>
          <Field label={t('API 密钥', 'API key')} error={error ?? undefined}>
            {(id, describedBy) => (
              <TextInput
                id={id}
                describedBy={describedBy}
                type="password"
                value={key}
                onChange={setKey}
                name="apiKey"
                autoComplete="off"
                invalid={error !== null}
              />
            )}
          </Field>
          <Button type="submit" theme="primary" loading={busy}>
            {t('登录', 'Sign in')}
          </Button>
        </Form>
      </Card>
    </div>
  );
}
