import { appStatusOf } from './app-state';
import { createDeployment, type Deployment, type DeploymentCommand, transition } from './deployment';
import { commandsToBuilt, exampleNewDeployment } from './examples';

const T0 = 1_700_000_000_000;
const user = { kind: 'account' as const, id: 'acc_demo' };
const linked = { miniProgramAppid: 'wx0123456789abcdef' as const };

/** A deployment taken through these commands, as the pipeline would. */
const afterCommands = (...commands: DeploymentCommand[]): Deployment =>
  commands.reduce(
    (d, command) => transition(d, command, { at: T0, actor: user, random: () => 0.5 }).deployment,
    createDeployment(exampleNewDeployment(), { at: T0, actor: user }),
  );

const built: DeploymentCommand[] = commandsToBuilt('ast_qr');

describe('appStatusOf', () => {
  test.each<[string, string, DeploymentCommand[]]>([
    ['building', 'building', [{ type: 'startBuild' }]],
    ['built', 'built', built],
    ['submitted', 'in-review', [...built, { type: 'submitAudit' }]],
    ['auditing', 'in-review', [...built, { type: 'submitAudit' }, { type: 'auditSubmitted', auditId: 7 }]],
    [
      'approved',
      'approved',
      [...built, { type: 'submitAudit' }, { type: 'auditSubmitted', auditId: 7 }, { type: 'auditApproved', auditId: 7 }],
    ],
    [
      'released',
      'released',
      [
        ...built,
        { type: 'submitAudit' },
        { type: 'auditSubmitted', auditId: 7 },
        { type: 'auditApproved', auditId: 7 },
        { type: 'startRelease' },
        { type: 'released' },
      ],
    ],
    ['cancelled', 'configuring', [...built, { type: 'cancel' }]],
  ])('a %s deployment → the app is %s', (_name, status, commands) => {
    expect(appStatusOf(linked, afterCommands(...commands))).toBe(status);
  });

  test('without a mini program and nothing open the app is unlinked; before its first build, configuring', () => {
    expect(appStatusOf({ miniProgramAppid: null }, null)).toBe('unlinked');
    expect(appStatusOf({ miniProgramAppid: null }, afterCommands(...built, { type: 'void', reason: 'unbound' }))).toBe('unlinked');
    expect(appStatusOf(linked, null)).toBe('configuring');
  });
});
