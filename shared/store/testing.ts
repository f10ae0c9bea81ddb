/**
 * For tests of code that uses the store: losing a compare-and-set race on purpose. The first `update` lets another
 * writer change the document first, so the caller's write meets a newer version and must read again.
 */
import type { Collection } from './port';

export function loseFirstRace<T>(collection: Pick<Collection<T, string>, 'get' | 'update'>, otherWriter: (current: T) => T): void {
  const realUpdate = collection.update.bind(collection);
  let raced = false;
  collection.update = async (id, version, data) => {
    if (!raced) {
      raced = true;
      const current = await collection.get(id);
      if (current) await realUpdate(id, current.version, otherWriter(current.data));
    }
    return realUpdate(id, version, data);
  };
}
