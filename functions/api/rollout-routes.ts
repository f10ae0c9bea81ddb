/**
 * `/v1/rollouts` (an account over its own apps, account API key) and `/v1/platform/rollouts` (the platform admin,
 * over the apps of every account that allows platform-managed updates): create, list, read with members and
 * progress, pause, resume, abort, retry the failed members, release a held wave. The same routes twice, one owner
 * each. Plus an app's rollout settings (labels, platform-managed updates), which its account sets.
 */

import { getApp } from '../../shared/app/catalog';
import { accountOf, actorOf, type Services } from '../../shared/app/context';
import {
  abortRollout,
  createRollout,
  listRollouts,
  pauseRollout,
  releaseWave,
  resumeRollout,
  retryMembers,
  rolloutSettingsOf,
  rolloutWithMembers,
  updateRolloutSettings,
} from '../../shared/app/rollouts/manage';
import type { RolloutOwner } from '../../shared/app/rollouts/store';
import { appLabelSchema } from '../../shared/domain/app';
import { lazyTarget } from '../../shared/domain/common';
import { appIdSchema, rolloutIdSchema } from '../../shared/domain/ids';
import {
  abortOptionsSchema,
  countsByWave,
  estimatedEnd,
  MEMBER_STATES,
  type Rollout,
  type RolloutMember,
  rolloutInputSchema,
  rolloutMemberSchema,
  rolloutSchema,
  waveSchema,
} from '../../shared/domain/rollout';
import * as z from '../../shared/domain/zod';
import { appParams } from '../../shared/routes/params';
import { type AnyRoute, json, type Principal, route } from '../../shared/runtime/http/route';
import { accountScope, type OwnerScope, platformScope } from './owner-scopes';

const rolloutParams = /* @__PURE__ */ z.lazy(() => z.object({ rolloutId: z.described(rolloutIdSchema, 'a rollout id (rol_…)') }));

// A function, not a z.lazy: described, a lazy's description would come first in the document's keys.
const countsView = () => z.object(Object.fromEntries(MEMBER_STATES.map((state) => [state, z.number().check(z.int())])));

const rolloutView = /* @__PURE__ */ z.lazy(() =>
  z.registered(
    z.extend(z.omit(lazyTarget(rolloutSchema), { waves: true }), {
      waves: z.array(
        z.extend(waveSchema, {
          wave: z.number().check(z.int()),
          counts: z.described(countsView(), 'Members of the wave per state; they add up to its size.'),
        }),
      ),
      estimatedEndAt: z.described(
        z.nullable(z.number().check(z.int())),
        'When the rollout should end, from the audit times observed so far; null before the first decision.',
      ),
    }),
    { id: 'Rollout' },
  ),
);
const memberView = /* @__PURE__ */ z.lazy(() => z.registered(lazyTarget(rolloutMemberSchema), { id: 'RolloutMember' }));
/** A rollout with every member: what its routes answer (and `npm run demo:fleet` reads). */
export const rolloutWithMembersView = /* @__PURE__ */ z.lazy(() =>
  z.registered(z.extend(lazyTarget(rolloutView), { members: z.array(memberView) }), { id: 'RolloutWithMembers' }),
);

const settingsView = /* @__PURE__ */ z.lazy(() =>
  z.registered(
    z.object({
      labels: z.array(z.string()),
      platformManagedUpdates: z.described(z.boolean(), 'Whether the platform admin may roll new template versions out to this app.'),
    }),
    { id: 'AppRolloutSettings' },
  ),
);

const toView = (services: Services, rollout: Rollout, members: readonly RolloutMember[]): z.infer<typeof rolloutView> => ({
  ...rollout,
  waves: countsByWave(rollout, members).map(({ wave, counts }) => ({
    ...(rollout.waves[wave] ?? { size: 0, acceptedBad: 0, released: false }),
    wave,
    counts,
  })),
  estimatedEndAt: estimatedEnd(rollout, members, services.clock()),
});

function ownerRoutes(services: Services, { prefix, auth, whose, who }: OwnerScope): AnyRoute[] {
  const one = `${prefix}/{rolloutId}`;
  const withMembers = async (owner: RolloutOwner, id: string) => {
    const { rollout, members } = await rolloutWithMembers(services, owner, id);
    return { ...toView(services, rollout, members), members };
  };
  const action = (name: string, summary: string, run: (owner: RolloutOwner, id: string, principal: Principal) => Promise<unknown>) =>
    route({
      method: 'POST',
      path: `${one}/${name}`,
      auth,
      summary,
      params: rolloutParams,
      response: rolloutWithMembersView,
      handle: async ({ params, principal }) => {
        const owner = whose(principal);
        await run(owner, params.rolloutId, principal);
        return json(200, await withMembers(owner, params.rolloutId));
      },
    });
  return [
    route({
      method: 'POST',
      path: prefix,
      status: 201,
      auth,
      summary: `Start a rollout of a template version over ${who}, in waves (members resolved now; the timer drives it)`,
      body: rolloutInputSchema,
      response: rolloutWithMembersView,
      handle: async ({ body, principal }) => {
        const owner = whose(principal);
        const rollout = await createRollout(services, owner, body, actorOf(principal));
        return json(201, await withMembers(owner, rollout.id));
      },
    }),
    route({
      method: 'GET',
      path: prefix,
      auth,
      summary: `The rollouts of ${who}, newest first: plan, state, history and members per state as last counted`,
      response: z.lazy(() => z.object({ rollouts: z.array(z.registered(lazyTarget(rolloutSchema), { id: 'RolloutSummary' })) })),
      handle: async ({ principal }) => json(200, { rollouts: await listRollouts(services, whose(principal)) }),
    }),
    route({
      method: 'GET',
      path: one,
      auth,
      summary: 'A rollout: its plan, state, history (who, when, why), counts per wave, estimated end, and every member with its deployment',
      params: rolloutParams,
      response: rolloutWithMembersView,
      handle: async ({ params, principal }) => json(200, await withMembers(whose(principal), params.rolloutId)),
    }),
    action('pause', 'Pause: nothing new is started, submitted or released; audits under way go on', (owner, id, p) =>
      pauseRollout(services, owner, id, actorOf(p)),
    ),
    action('resume', 'Resume a paused or halted rollout (a halt’s failures so far are accepted; new ones count)', (owner, id, p) =>
      resumeRollout(services, owner, id, actorOf(p)),
    ),
    route({
      method: 'POST',
      path: `${one}/abort`,
      auth,
      summary:
        'Abort: members not started are skipped, building or built or approved cancelled, in review withdrawn or left (inReview), released left or rolled back (released)',
      params: rolloutParams,
      body: abortOptionsSchema,
      response: rolloutWithMembersView,
      handle: async ({ params, body, principal }) => {
        const owner = whose(principal);
        await abortRollout(services, owner, params.rolloutId, body, actorOf(principal));
        return json(200, await withMembers(owner, params.rolloutId));
      },
    }),
    route({
      method: 'POST',
      path: `${one}/retry`,
      auth,
      summary: 'Retry the rejected and failed members (or those listed): each gets a new build',
      params: rolloutParams,
      body: z.lazy(() => z.strictObject({ appIds: z.optional(z.array(appIdSchema).check(z.minLength(1), z.maxLength(10_000))) })),
      response: rolloutWithMembersView,
      handle: async ({ params, body, principal }) => {
        const owner = whose(principal);
        await retryMembers(services, owner, params.rolloutId, body.appIds, actorOf(principal));
        return json(200, await withMembers(owner, params.rolloutId));
      },
    }),
    route({
      method: 'POST',
      path: `${one}/release-wave`,
      auth,
      summary: 'Manual release policy: release the approved members of a wave (and those approved later in it)',
      params: rolloutParams,
      body: z.lazy(() => z.strictObject({ wave: z.number().check(z.int(), z.nonnegative()) })),
      response: rolloutWithMembersView,
      handle: async ({ params, body, principal }) => {
        const owner = whose(principal);
        await releaseWave(services, owner, params.rolloutId, body.wave, actorOf(principal));
        return json(200, await withMembers(owner, params.rolloutId));
      },
    }),
  ];
}

export const rolloutRoutes = (services: Services): AnyRoute[] => [
  ...ownerRoutes(services, accountScope('/v1/rollouts', "the account's own apps")),
  ...ownerRoutes(services, platformScope('/v1/platform/rollouts', 'every app whose account allows platform-managed updates')),
  route({
    method: 'GET',
    path: '/v1/apps/{appId}/rollout-settings',
    auth: 'account',
    summary: "An app's labels (rollouts select by them) and whether the platform admin may roll updates out to it",
    params: appParams,
    response: settingsView,
    handle: async ({ params, principal }) =>
      json(200, rolloutSettingsOf((await getApp(services, accountOf(principal), params.appId)).data)),
  }),
  route({
    method: 'PUT',
    path: '/v1/apps/{appId}/rollout-settings',
    auth: 'account',
    summary: "Set an app's labels and/or whether the platform admin may roll updates out to it (off by default)",
    params: appParams,
    body: z.lazy(() =>
      z.strictObject({
        labels: z.optional(z.array(appLabelSchema).check(z.maxLength(20))),
        platformManagedUpdates: z.optional(z.boolean()),
      }),
    ),
    response: settingsView,
    handle: async ({ params, body, principal }) =>
      json(
        200,
        await updateRolloutSettings(services, accountOf(principal), params.appId, {
          ...(body.labels ? { labels: body.labels } : {}),
          ...(body.platformManagedUpdates === undefined ? {} : { platformManagedUpdates: body.platformManagedUpdates }),
        }),
      ),
  }),
];
