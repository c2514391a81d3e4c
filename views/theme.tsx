/** Colours by meaning; all undefined under NO_COLOR (https://no-color.org), so Ink emits no colour codes. */
import { createContext, useContext } from 'react';

export interface Theme {
  color: boolean;
  ok?: string;
  warn?: string;
  bad?: string;
  dim?: string;
  accent?: string;
  badge?: string;
}

export const colorTheme: Theme = {
  color: true,
  ok: 'green',
  warn: 'yellow',
  bad: 'red',
  dim: 'gray',
  accent: 'cyan',
  badge: 'magenta',
};
export const monoTheme: Theme = { color: false };

/** NO_COLOR present and non-empty disables colour. */
export const themeFromEnv = (env: Record<string, string | undefined>): Theme =>
  env.NO_COLOR !== undefined && env.NO_COLOR !== '' ? monoTheme : colorTheme;

export const ThemeContext = createContext<Theme>(colorTheme);
export const useTheme = (): Theme => useContext(ThemeContext);
