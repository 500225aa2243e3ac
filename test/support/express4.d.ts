// The Express 4 alias dev dependency (`"express4": "npm:express@^4.21"`) has the same public
// shape the tests use as Express 5's types describe.
declare module 'express4' {
  import express from 'express';
  export default express;
}
