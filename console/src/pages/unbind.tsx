import { MessagePlugin } from 'tdesign-react';
import type { ApiClient, MiniProgramView } from '../api';
import type { T } from '../i18n';
import { confirm, plainError } from '../ui';

/**
 * Unbinding, with its consequences said first in the seed's words (seed 000, 应用解绑小程序): the pending audit
 * is voided, and unbinding the primary stops every other mini program of the account from publishing.
 */
export async function unbindWithWarning(t: T, api: ApiClient, mp: Pick<MiniProgramView, 'appid' | 'nickname' | 'roles'>): Promise<boolean> {
  const primary = mp.roles.includes('primary');
  const confirmed = await confirm({
    header: t(`解绑 ${mp.nickname}？`, `Unbind ${mp.nickname}?`),
    body: (
      <div className="warning-body">
        <p>
          {t(
            '应用解绑小程序后，该小程序已提交审核版本将作废。',
            'Once unbound, the version this mini program has submitted for audit is voided.',
          )}
        </p>
        {primary ? (
          <p className="danger-text">
            {t(
              '绑定本账号的主小程序，解绑授权后将导致其他小程序不可发布，请谨慎操作！',
              'This is the account’s primary mini program: unbinding it stops every other mini program of the account from publishing. Be careful!',
            )}
          </p>
        ) : null}
      </div>
    ),
    confirmText: t('确认解绑', 'Unbind'),
    cancelText: t('取消', 'Cancel'),
    danger: true,
  });
  if (!confirmed) return false;
  try {
    const result = await api.call('unbind', { params: { appid: mp.appid }, body: { force: primary } });
    void MessagePlugin.success(
      t(
        `已解绑 ${mp.nickname}，作废 ${result.voided} 个进行中的部署`,
        `${mp.nickname} unbound; ${result.voided} deployment(s) in flight voided`,
      ),
    );
    return true;
  } catch (error) {
    void MessagePlugin.error(plainError(t, error));
    return false;
  }
}
