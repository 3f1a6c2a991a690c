// Huawei policy wildcards: '*' matches any run of characters, '?' one character; matching ignores case.
const cache = new Map<string, RegExp>();

export function globRegExp(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (!re) {
    const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${body}$`, 'i');
    if (cache.size < 10_000) cache.set(pattern, re);
  }
  return re;
}
