/**
 * The Redis store's scripts as it calls them: each one's Lua and its SHA-1, for EVALSHA (the
 * store sends the Lua itself once, when a node answers NOSCRIPT).
 * @internal
 */
import { createHash } from 'node:crypto';
import {
  APPLY_MANY,
  APPLY_ONLY,
  CREATE,
  DESTROY,
  ENTRIES_WRITE,
  INSERT,
  READ,
  READ_MANY,
  REGENERATE,
  TAKE,
  TOUCH,
  UPDATE,
} from './redis-scripts.ts';
import {
  DESTROY_MANY,
  DESTROY_SURPLUS,
  DESTROY_USER,
  FIELDS_MANY,
  INDEX_ADD,
  LIST_USER,
} from './redis-user-scripts.ts';

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

export interface Script {
  readonly lua: string;
  readonly sha: string;
}
const script = (lua: string): Script => ({ lua, sha: sha1(lua) });
export const scripts = {
  create: script(CREATE),
  insert: script(INSERT),
  update: script(UPDATE),
  applyOnly: script(APPLY_ONLY),
  touch: script(TOUCH),
  destroy: script(DESTROY),
  indexAdd: script(INDEX_ADD),
  regenerate: script(REGENERATE),
  take: script(TAKE),
  destroyUser: script(DESTROY_USER),
  destroySurplus: script(DESTROY_SURPLUS),
  fieldsMany: script(FIELDS_MANY),
  destroyMany: script(DESTROY_MANY),
  listUser: script(LIST_USER),
  read: script(READ),
  readMany: script(READ_MANY),
  applyMany: script(APPLY_MANY),
  entriesWrite: script(ENTRIES_WRITE),
};
