/**
 * Hashes as Nix writes them: the Nix base32 alphabet and bit order (libutil's
 * `printHash32`), `sha256:` prefixed base32 and SRI (`sha256-<base64>`). A flat file
 * hash (`nix-prefetch-url <url>` without --unpack, `fetchurl`'s `sha256`) is the SHA-256
 * of the file's bytes. Pure.
 */

const ALPHABET = '0123456789abcdfghijklmnpqrsvwxyz';

/** Nix base32 of `bytes` (52 characters for a SHA-256). */
export function nixBase32(bytes: Uint8Array): string {
  const len = Math.floor((bytes.length * 8 - 1) / 5) + 1;
  let out = '';
  for (let n = len - 1; n >= 0; n--) {
    const b = n * 5;
    const i = Math.floor(b / 8);
    const j = b % 8;
    const lo = bytes[i]! >> j;
    const hi = i + 1 < bytes.length ? bytes[i + 1]! << (8 - j) : 0;
    out += ALPHABET[(lo | hi) & 0x1f];
  }
  return out;
}

/** The bytes of a Nix base32 string, or undefined when it is not one. */
export function fromNixBase32(s: string, size = 32): Uint8Array | undefined {
  const len = Math.floor((size * 8 - 1) / 5) + 1;
  if (s.length !== len) return undefined;
  const out = new Uint8Array(size);
  for (let n = 0; n < len; n++) {
    const digit = ALPHABET.indexOf(s[len - 1 - n]!);
    if (digit < 0) return undefined;
    const b = n * 5;
    const i = Math.floor(b / 8);
    const j = b % 8;
    out[i]! |= (digit << j) & 0xff;
    const carry = digit >> (8 - j);
    if (i + 1 < size) out[i + 1]! |= carry;
    else if (carry !== 0) return undefined;
  }
  return out;
}

export type PinStyle = 'base32' | 'prefixed' | 'sri';

/** How a manifest's pin is written (an empty pin takes the manifest's default: base32). */
export function pinStyle(pin: string): PinStyle {
  if (pin.startsWith('sha256-')) return 'sri';
  if (pin.startsWith('sha256:')) return 'prefixed';
  return 'base32';
}

/** A SHA-256 digest written in `style`. */
export function formatPin(digest: Uint8Array, style: PinStyle): string {
  if (style === 'sri') return `sha256-${Buffer.from(digest).toString('base64')}`;
  const b32 = nixBase32(digest);
  return style === 'prefixed' ? `sha256:${b32}` : b32;
}

/** The digest a pin names, or undefined when the pin is empty or malformed. */
export function pinDigest(pin: string): Uint8Array | undefined {
  if (/^sha256-[A-Za-z0-9+/]{43}=$/.test(pin)) {
    return new Uint8Array(Buffer.from(pin.slice('sha256-'.length), 'base64'));
  }
  const b32 = pin.startsWith('sha256:') ? pin.slice('sha256:'.length) : pin;
  if (!/^[0-9a-df-np-sv-z]{52}$/.test(b32)) return undefined;
  return fromNixBase32(b32);
}

/** Whether two pins name the same digest, whatever their style. */
export function samePin(a: string, b: string): boolean {
  const x = pinDigest(a);
  const y = pinDigest(b);
  return x !== undefined && y !== undefined && Buffer.from(x).equals(Buffer.from(y));
}
