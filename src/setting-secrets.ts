// Which server settings hold secrets, and their masked form for --print-config. Decided by name, so a
// setting added later (a token, a password) is masked without a list to keep: its flag ends in
// -password, -secret, -token or -sk. The -file forms hold paths, not secrets. Any URL's password is
// masked too (postgres://user:PASSWORD@host, ?password=…), and a NATS URL's token (nats://TOKEN@host).
// Used for --print-config, for what a settings file may hold, and wherever a URL setting is echoed.

export const MASK = '***';

const SECRET_FLAG = /(^|-)(password|secret|token|sk)$/;
const URL_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^/@:]*:)([^@/]*)@/i;
const NATS_TOKEN = /^((?:nats|tls):\/\/)([^/@:]+)@/i;
const QUERY_PASSWORD = /([?&]password=)([^&#]*)/gi;

export function isSecretSetting(flag: string): boolean {
  return SECRET_FLAG.test(flag);
}

/** `value` with what is secret in it replaced by the mask. */
export function maskSetting(flag: string, value: string): string {
  if (isSecretSetting(flag)) return MASK;
  return value.replace(URL_PASSWORD, `$1${MASK}@`).replace(NATS_TOKEN, `$1${MASK}@`).replace(QUERY_PASSWORD, `$1${MASK}`);
}

/** Whether the value holds the mask where a secret goes: a file copied from --print-config's output. */
export function holdsMask(flag: string, value: string): boolean {
  return isSecretSetting(flag) ? value === MASK : value.includes(`:${MASK}@`) || value.includes(`//${MASK}@`) || value.includes(`password=${MASK}`);
}

/** Whether the value holds a secret (then it must not sit in a file others may read). */
export function holdsSecret(flag: string, value: string): boolean {
  return maskSetting(flag, value) !== value;
}
