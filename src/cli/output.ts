// Where the client commands write: answers to stdout, messages to stderr.
export const print = (text: string): void => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
export const printJson = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);
export const warn = (text: string): void => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
export const sleep = (ms: number): Promise<void> => new Promise<void>((r) => setTimeout(r, ms));

// A closed pipe (`cachectl tasks | head`) is not an error worth a stack trace.
let pipeGuard = false;
export function guardPipes(): void {
  if (pipeGuard) return;
  pipeGuard = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}
