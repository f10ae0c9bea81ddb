/**
 * Run by outbox-crash.test.ts as its own process: makes state changes on the SQLite file it is given and is
 * SIGKILLed by itself the moment the last one is committed — after the write, before any delivery could start.
 */
import { onOutbox } from '../../shared/app/webhooks/outbox';
import { LIFECYCLE, openWorld } from './support';

async function main() {
  const [path, countText] = process.argv.slice(2);
  const count = Number(countText);
  const world = openWorld({ path: path ?? '' });
  let committed = 0;
  onOutbox(world.store, () => {
    committed += 1;
    if (committed === count) process.kill(process.pid, 'SIGKILL');
  });
  let d = await world.newDeployment();
  process.stdout.write(`${d.id}\n`);
  for (const command of LIFECYCLE.slice(0, count)) d = await world.change(d, command);
  // Not reached: the listener killed the process.
  process.stdout.write('survived\n');
}

void main();
