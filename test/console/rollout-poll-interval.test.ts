/**
 * How often a rollout's page looks again: as a deployment's while one of our own steps runs (a member starting,
 * building, releasing; an abort being carried out), twice a minute while only WeChat's audits are under way (or the
 * rollout is paused or halted: audits go on), and never once it ended.
 */
import { AUDIT_POLL_MS, rolloutPollIntervalOf, STEP_POLL_MS } from '../../console/src/poll-intervals';

describe('a rollout page’s polling', () => {
  it('looks often while a member is in one of our own steps or an abort is carried out', () => {
    expect(rolloutPollIntervalOf('running', ['released', 'building', 'pending'])).toBe(STEP_POLL_MS);
    expect(rolloutPollIntervalOf('paused', ['auditing', 'releasing'])).toBe(STEP_POLL_MS);
    expect(rolloutPollIntervalOf('aborting', ['auditing'])).toBe(STEP_POLL_MS);
  });

  it('looks twice a minute while only audits, or nothing of ours, are under way', () => {
    expect(rolloutPollIntervalOf('running', ['auditing', 'pending', 'approved'])).toBe(AUDIT_POLL_MS);
    expect(rolloutPollIntervalOf('halted', ['rejected', 'auditing'])).toBe(AUDIT_POLL_MS);
  });

  it('does not look again once the rollout ended', () => {
    expect(rolloutPollIntervalOf('completed', ['released'])).toBeNull();
    expect(rolloutPollIntervalOf('aborted', ['skipped', 'building'])).toBeNull();
  });
});
