/** The commit's decision step, pure: what a request must write, for every combination that matters. */
import { describe, expect, it } from 'vitest';
import { type Plan, type PlanFacts, plan } from '../src/lifecycle/plan.ts';

const base: PlanFacts = {
  loaded: true,
  ended: false,
  regenerate: false,
  changed: false,
  hasContent: true,
  reissue: false,
  touchDue: false,
  nonce: false,
};

const cases: Array<[string, Partial<PlanFacts>, Plan]> = [
  ['a plain read', {}, 'nothing'],
  ['a read signed with an older secret', { reissue: true }, 'reissue'],
  ['a read with the touch due', { touchDue: true }, 'touch'],
  [
    'a touch due wins over a re-issue (the touch sends the cookie too)',
    { touchDue: true, reissue: true },
    'touch',
  ],
  ['a change', { changed: true }, 'update'],
  ['a change with the touch due: one update', { changed: true, touchDue: true }, 'update'],
  [
    'a change that emptied the session still updates',
    { changed: true, hasContent: false },
    'update',
  ],
  ['regenerate', { regenerate: true, changed: true }, 'regenerate'],
  [
    'regenerate of a session emptied in this request ends it',
    { regenerate: true, hasContent: false },
    'end',
  ],
  ['destroy', { ended: true, changed: true }, 'end'],
  ['destroy wins over regenerate', { ended: true, regenerate: true }, 'end'],
  ['a new session that stored nothing', { loaded: false, hasContent: false }, 'nothing'],
  ['a new session that stored something', { loaded: false, changed: true }, 'create'],
  [
    'a new session, logged in (regenerate on nothing is a create)',
    { loaded: false, regenerate: true },
    'create',
  ],
  [
    'a new session that only handed out a CSRF token',
    { loaded: false, hasContent: false, nonce: true },
    'nonce',
  ],
  [
    'a new session with a CSRF token and data: the record',
    { loaded: false, nonce: true },
    'create',
  ],
  ['destroy of a new session (clears a dead cookie)', { loaded: false, ended: true }, 'end'],
];

describe('plan', () => {
  it.each(cases)('%s', (_name, facts, expected) => {
    expect(plan({ ...base, ...facts })).toBe(expected);
  });
});
