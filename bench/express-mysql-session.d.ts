// express-mysql-session ships no types: the one call the bench makes.
declare module 'express-mysql-session' {
  const factory: (session: unknown) => unknown;
  export default factory;
}
