/**
 * serverless.fc.yml (Alibaba FC3) must deploy the same functions, routes and timers as serverless.yml (SCF).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { parseScfCron } from '../infra/local/cron';
import { loadTemplate } from '../infra/local/template';
import { renderTemplate } from '../infra/scf/render';
import { generateFcTemplate, scfCronToFc } from '../scripts/fc-template';

const root = resolve(__dirname, '..');
const scfFile = join(root, 'serverless.yml');
const fcFile = join(root, 'serverless.fc.yml');

interface FcResource {
  component: string;
  props: {
    functionName: string;
    code: string;
    timeout?: number;
    triggers: { triggerName: string; triggerType: string; triggerConfig: Record<string, unknown> }[];
  };
}

const fc = parse(readFileSync(fcFile, 'utf8')) as {
  edition: string;
  template: { function: Record<string, unknown> };
  resources: Record<string, FcResource>;
};
const scf = loadTemplate(scfFile, {});

describe('serverless.fc.yml', () => {
  it('is what scripts/fc-template.ts generates from serverless.yml (regenerate with `tsx scripts/fc-template.ts`)', () => {
    expect(readFileSync(fcFile, 'utf8')).toBe(generateFcTemplate(readFileSync(scfFile, 'utf8')));
  });

  it('has the same functions, bundles and timeouts', () => {
    expect(fc.edition).toBe('3.0.0');
    expect(Object.keys(fc.resources).sort()).toEqual(scf.functions.map((f) => f.name).sort());
    for (const fn of scf.functions) {
      const twin = fc.resources[fn.name];
      expect(twin?.component).toBe('fc3');
      expect(twin?.props.functionName).toBe(fn.functionName);
      expect(twin?.props.code).toBe(`./dist/${fn.name}`);
      expect((twin?.props.timeout ?? Number(fc.template.function.timeout)) * 1000).toBe(fn.timeoutMs);
      expect(fc.template.function.handler).toBe(`index.${fn.exportName}`);
    }
  });

  it('serves every route through an anonymous HTTP trigger allowing its methods, and OPTIONS for CORS preflights', () => {
    for (const fn of scf.functions) {
      const http = fc.resources[fn.name]?.props.triggers.filter((t) => t.triggerType === 'http') ?? [];
      if (fn.routes.length === 0) {
        expect(http).toEqual([]);
        continue;
      }
      expect(http).toHaveLength(1);
      expect(http[0]?.triggerConfig.authType).toBe('anonymous');
      expect(http[0]?.triggerConfig.methods).toEqual([...new Set([...fn.routes.map((r) => r.method), 'OPTIONS'])].sort());
    }
  });

  it('fires every timer at the same moments, in Asia/Shanghai time', () => {
    for (const fn of scf.functions) {
      const timers = fc.resources[fn.name]?.props.triggers.filter((t) => t.triggerType === 'timer') ?? [];
      expect(timers.map((t) => t.triggerName)).toEqual(fn.timers.map((t) => t.name));
      fn.timers.forEach((timer, i) => {
        const cron = String(timers[i]?.triggerConfig.cronExpression);
        expect(cron).toBe(scfCronToFc(timer.cronExpression));
        expect(cron.startsWith('CRON_TZ=Asia/Shanghai ')).toBe(true);
        // The six FC fields are SCF's first six; SCF's year is '*': the same schedule.
        const six = cron.slice('CRON_TZ=Asia/Shanghai '.length);
        expect(six.split(' ')).toHaveLength(6);
        const from = Date.UTC(2026, 0, 1);
        expect(parseScfCron(`${six} *`).next(from)).toBe(parseScfCron(timer.cronExpression).next(from));
        if (timer.payload !== undefined) expect(timers[i]?.triggerConfig.payload).toBe(timer.payload);
      });
    }
  });

  it('passes the same environment, with STORE defaulting to mongodb', () => {
    const env = { DATA_KEY: 'k' };
    const fcRendered = renderTemplate(fcFile, env);
    const scfRendered = renderTemplate(scfFile, env);
    const fcEnv = fcRendered.api?.props.environmentVariables as Record<string, string>;
    const scfEnv = scfRendered.api?.props.environment as Record<string, string>;
    expect(Object.keys(fcEnv)).toEqual(Object.keys(scfEnv));
    expect({ ...fcEnv, STORE: scfEnv.STORE }).toEqual(scfEnv);
    expect(fcEnv.STORE).toBe('mongodb');
  });
  it('refuses SCF cron features it cannot translate', () => {
    expect(() => scfCronToFc('0 0 2 * * MON 2027')).toThrow(/year/);
    expect(() => scfCronToFc('0 0 2 * * MON *')).toThrow(/weekday/);
    expect(() => scfCronToFc('*/5 * * * *')).toThrow(/7 fields/);
  });
});
