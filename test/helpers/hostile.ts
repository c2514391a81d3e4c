/** Each sequence the hostile-input issue planted, by name. */
export const HOSTILE: Record<string, string> = {
  'OSC 0 (title)': '\x1b]0;pwned\x07',
  'OSC 52 (clipboard)': '\x1b]52;c;cm0gLXJmIH4=\x07',
  'CSI SGR': '\x1b[31;1m',
  'CSI cursor': '\x1b[2J\x1b[H',
  'C1 CSI': '\u009b31m',
  'C1 OSC': '\u009d0;x\u009c',
  newline: 'a\n✓ kube-apiserver forged',
  'carriage return': 'ok\roverwritten',
  NUL: 'a\u0000b',
  DEL: 'a\u007fb',
  'bidi override': 'evil\u202etxt.pem',
  'bidi isolate': '\u2066x\u2069',
  'line separator': 'a\u2028b',
};

/** A raw control, C1 or bidi character: none may reach a terminal, a JSON or a metrics file. */
export const RAW_UNSAFE =
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
