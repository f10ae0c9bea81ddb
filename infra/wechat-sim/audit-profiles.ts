/**
 * How the audits of one template's versions go, for fleet rollouts: how long each takes (a lognormal between a
 * minimum and a maximum around a median: most audits take about the median, a few much longer, as WeChat's do) and
 * what share is rejected. Each audit's draw comes from a hash of the profile's seed and the auditid, so a run replays
 * exactly whatever the order of the calls, and two simulators with the same seed agree. Pure: `SimState` applies it.
 */
import { createHash } from 'node:crypto';
import * as z from '../../shared/domain/zod';

const nonNegativeInt = z.number().check(z.int(), z.gte(0));

export const auditProfileSchema = z
  .strictObject({
    /** The template (one version of the code line) whose commits this applies to. */
    templateId: nonNegativeInt,
    minMs: nonNegativeInt,
    medianMs: nonNegativeInt,
    maxMs: nonNegativeInt,
    /** Share of audits rejected, 0–1. */
    rejectRate: z.number().check(z.gte(0), z.lte(1)),
    /** The rejection's reason (get_auditstatus `reason`, the push's `Reason`); default the simulator's own. */
    reason: z.optional(z.string().check(z.minLength(1))),
    /** Default 1. */
    seed: z.optional(z.number().check(z.int())),
  })
  .check(
    z.refine((p) => p.minMs <= p.medianMs && p.medianMs <= p.maxMs, { message: 'needs minMs ≤ medianMs ≤ maxMs', path: ['medianMs'] }),
  );
export type AuditProfile = z.infer<typeof auditProfileSchema>;

export interface AuditDraw {
  delayMs: number;
  decision: 'approve' | 'reject';
}

/** z of the 99th percentile of the standard normal: the profile's max sits there before clamping. */
const Z_99 = 2.326;

/** A uniform number in (0, 1) from the seed, the audit and which draw of it this is. */
function uniform(seed: number, auditid: number, draw: string): number {
  const digest = createHash('sha256').update(`${seed}:${auditid}:${draw}`).digest();
  return (digest.readUIntBE(0, 6) + 0.5) / 2 ** 48;
}

/** One audit's duration and outcome under `profile`. */
export function drawAudit(profile: AuditProfile, auditid: number): AuditDraw {
  const seed = profile.seed ?? 1;
  const decision = uniform(seed, auditid, 'decision') < profile.rejectRate ? 'reject' : 'approve';
  if (profile.medianMs === 0 || profile.maxMs === profile.medianMs) return { delayMs: profile.medianMs, decision };
  // Box–Muller: a standard normal from two uniforms; its exponent spreads the median so that max is the 99th percentile.
  const z = Math.sqrt(-2 * Math.log(uniform(seed, auditid, 'u1'))) * Math.cos(2 * Math.PI * uniform(seed, auditid, 'u2'));
  const sigma = Math.log(profile.maxMs / profile.medianMs) / Z_99;
  const delayMs = Math.round(Math.min(profile.maxMs, Math.max(profile.minMs, profile.medianMs * Math.exp(sigma * z))));
  return { delayMs, decision };
}
