/**
 * For tests of code that uses the store: losing a compare-and-set race on purpose. Right after the first read of a
 * document another writer changes it, so the caller's write — a single update or a batch — meets a newer version
 * and must read again.
 */
import type { Collection } from './port';

export function loseFirstRace<T>(collection: Pick<Collection<T, string>, 'get' | 'update'>, otherWriter: (current: T) => T): void {
  const realGet = collection.get.bind(collection);
  let raced = false;
  collection.get = async (id) => {
    const read = await realGet(id);
    if (!raced && read) {
      raced = true;
      await collection.update(id, read.version, otherWriter(read.data));
    }
    return read;
  };
}
