// Huawei policy wildcards: '*' matches any run of characters, '?' one character. Actions and domain names
// match whatever their case; condition values (StringMatch) match case by case, as the other String operators.
const cache = new Map<string, RegExp>();

export function globRegExp(pattern: string, ignoreCase = true): RegExp {
  const key = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let re = cache.get(key);
  if (!re) {
    const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${body}$`, ignoreCase ? 'i' : '');
    if (cache.size < 10_000) cache.set(key, re);
  }
  return re;
}
