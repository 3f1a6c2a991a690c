// SQLite runs statements synchronously on the event loop: a long write split into chunks awaits this
// between them, so that requests (and timers) are served meanwhile. The transaction keeps the one
// connection across the pause, so no other write comes in between.
export { setImmediate as yieldToEventLoop } from 'node:timers/promises';
