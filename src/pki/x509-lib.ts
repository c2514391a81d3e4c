/**
 * The one place that loads @peculiar/x509. It needs a Reflect metadata polyfill before it
 * is evaluated (tsyringe), and a WebCrypto provider: Node's own webcrypto.
 * Import x509 from here, never from '@peculiar/x509' directly.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

/** Node's WebCrypto, the provider @peculiar/x509 uses. */
export const subtle = webcrypto.subtle;
export { webcrypto, x509 };
