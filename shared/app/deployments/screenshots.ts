/**
 * The screenshots WeChat attaches to an audit rejection, read through to WeChat's permanent-material API
 * (get_auditstatus doc: the `|`-joined media ids "可通过获取永久素材接口拉取截图内容").
 */

import { NotFoundError } from '../../domain/errors';
import type { AccountId } from '../../domain/ids';
import { ERRCODE, WeChatApiError, WeChatResponseError } from '../../wechat/errcodes';
import type { Services } from '../context';
import { type ImageMeta, readImageMeta } from '../images';
import { callOf } from './leases';
import { getDeployment } from './state-changes';

export interface Screenshot {
  contentType: ImageMeta['contentType'];
  bytes: Buffer;
}

const notFound = (message: string, cause?: unknown) =>
  new NotFoundError(message, { code: 'SCREENSHOT_NOT_FOUND', field: 'mediaId', ...(cause === undefined ? {} : { cause }) });

/**
 * One rejection screenshot of the account's deployment. Only a media id the deployment's audit recorded is fetched,
 * so the route cannot be used to read other material of the mini program; the image type is read from the bytes,
 * not taken from WeChat's header, so only an image is ever served.
 */
export async function rejectionScreenshot(
  services: Services,
  accountId: AccountId,
  deploymentId: string,
  mediaId: string,
  signal?: AbortSignal,
): Promise<Screenshot> {
  const deployment = (await getDeployment(services, accountId, deploymentId)).data;
  if (!deployment.audit?.screenshots.includes(mediaId)) {
    throw notFound(`deployment ${deployment.id} has no rejection screenshot ${mediaId}`);
  }
  const endpoint = '/cgi-bin/material/get_material';
  try {
    const { bytes } = await services.wechat.client.getMaterial(deployment.miniProgramAppid, mediaId, callOf(signal));
    return { contentType: readImageOrFail(bytes, endpoint).contentType, bytes };
  } catch (error) {
    // WeChat no longer has it (or never gave this platform access): gone for the reader, like a missing id.
    if (error instanceof WeChatApiError && error.errcode === ERRCODE.INVALID_MEDIA_ID) {
      throw notFound(`WeChat has no material ${mediaId} for ${deployment.miniProgramAppid}`, error);
    }
    throw error;
  }
}

function readImageOrFail(bytes: Buffer, endpoint: string): ImageMeta {
  try {
    return readImageMeta(bytes);
  } catch (cause) {
    throw new WeChatResponseError(endpoint, 'get_material answered a file that is not an image', { cause });
  }
}
