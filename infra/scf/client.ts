/**
 * The SDK boundary: the nine SCF API calls the component makes. The real client is tencentcloud-sdk-nodejs-scf's
 * `Client`, which satisfies this interface as is; tests pass a recording fake instead.
 */
import type {
  CreateFunctionRequest,
  CreateFunctionResponse,
  CreateTriggerRequest,
  CreateTriggerResponse,
  DeleteFunctionRequest,
  DeleteFunctionResponse,
  DeleteTriggerRequest,
  DeleteTriggerResponse,
  GetFunctionRequest,
  GetFunctionResponse,
  ListTriggersRequest,
  ListTriggersResponse,
  UpdateFunctionCodeRequest,
  UpdateFunctionCodeResponse,
  UpdateFunctionConfigurationRequest,
  UpdateFunctionConfigurationResponse,
  UpdateTriggerRequest,
  UpdateTriggerResponse,
} from 'tencentcloud-sdk-nodejs-scf/tencentcloud/services/scf/v20180416/scf_models';

export interface ScfClient {
  GetFunction(req: GetFunctionRequest): Promise<GetFunctionResponse>;
  CreateFunction(req: CreateFunctionRequest): Promise<CreateFunctionResponse>;
  UpdateFunctionCode(req: UpdateFunctionCodeRequest): Promise<UpdateFunctionCodeResponse>;
  UpdateFunctionConfiguration(req: UpdateFunctionConfigurationRequest): Promise<UpdateFunctionConfigurationResponse>;
  ListTriggers(req: ListTriggersRequest): Promise<ListTriggersResponse>;
  CreateTrigger(req: CreateTriggerRequest): Promise<CreateTriggerResponse>;
  UpdateTrigger(req: UpdateTriggerRequest): Promise<UpdateTriggerResponse>;
  DeleteTrigger(req: DeleteTriggerRequest): Promise<DeleteTriggerResponse>;
  DeleteFunction(req: DeleteFunctionRequest): Promise<DeleteFunctionResponse>;
}

export interface TencentCredentials {
  secretId: string;
  secretKey: string;
  token?: string;
}

export type ScfClientFactory = (options: { region: string; credentials: TencentCredentials }) => ScfClient;

/** Loaded on first use so `plan` (and the tests) never need the SDK or credentials. */
export const sdkClientFactory: ScfClientFactory = ({ region, credentials }) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require('tencentcloud-sdk-nodejs-scf') as typeof import('tencentcloud-sdk-nodejs-scf');
  return new sdk.scf.v20180416.Client({
    credential: {
      secretId: credentials.secretId,
      secretKey: credentials.secretKey,
      ...(credentials.token ? { token: credentials.token } : {}),
    },
    region,
    profile: { httpProfile: { reqTimeout: 120 } },
  });
};

/** The SDK's errors carry the API error code (`ResourceNotFound.Function`, `ResourceInUse.Function`, …). */
export function apiErrorCode(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error && typeof (error as { code: unknown }).code === 'string') {
    return (error as { code: string }).code;
  }
  return undefined;
}

export const isNotFound = (error: unknown): boolean => apiErrorCode(error)?.startsWith('ResourceNotFound') ?? false;
