// better-sqlite3-session-store ships no types: the one call the bench makes.
declare module 'better-sqlite3-session-store' {
  const factory: (session: unknown) => unknown;
  export default factory;
}
