/**
 * The typed confirmation of an action: its title, the plan the action supplied, the choices
 * it offers (Tab changes the highlighted one, ↑/↓ highlight another; the plan follows), and
 * a prompt for the text to type (the node name). Enter starts it only when the text
 * matches; Esc cancels. Every line of the plan was made visible by the session.
 */
import { Box, Text } from 'ink';
import type { ConfirmState } from '../state.js';
import { useTheme } from '../theme.js';

export function ConfirmOverlay({
  confirm,
  input,
  width,
  height,
}: {
  confirm: ConfirmState;
  input: string;
  width: number;
  height: number;
}) {
  const theme = useTheme();
  const options = confirm.options ?? [];
  // Border (2), title, blank, prompt, error/help: 6 rows besides the plan and the choices.
  const planRows = Math.max(0, height - 6 - options.length);
  const plan = confirm.planText.slice(0, planRows);
  const cut = confirm.planText.length - plan.length;
  return (
    <Box
      flexDirection="column"
      width={width}
      height={height}
      borderStyle="single"
      borderColor={theme.warn}
      overflow="hidden"
    >
      <Text bold color={theme.warn} wrap="truncate">
        {`Confirm: ${confirm.title}`}
      </Text>
      {plan.map((l, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: plan lines are positional
        <Text key={i} wrap="truncate">
          {cut > 0 && i === plan.length - 1 ? `… ${cut + 1} more plan lines` : l}
        </Text>
      ))}
      <Text> </Text>
      {options.map((o, i) => {
        const focused = i === (confirm.focus ?? 0);
        return (
          <Text key={o.id} wrap="truncate">
            <Text color={focused ? theme.accent : theme.dim}>{focused ? '> ' : '  '}</Text>
            <Text>{`${o.label}: `}</Text>
            {o.choices.map((c, j) => (
              <Text key={c} bold={c === o.value} inverse={c === o.value && focused}>
                {`${j ? ' | ' : ''}${c === o.value ? `[${c}]` : c}`}
              </Text>
            ))}
          </Text>
        );
      })}
      <Text wrap="truncate">
        <Text>Type </Text>
        <Text bold>{confirm.expect}</Text>
        <Text> to start it: </Text>
        <Text color={theme.accent}>{input}</Text>
        <Text inverse> </Text>
      </Text>
      <Text color={confirm.error ? theme.bad : theme.dim} wrap="truncate">
        {confirm.error ??
          `Enter starts · Esc cancels (nothing runs until then)${
            options.length
              ? ` · Tab changes the highlighted choice${options.length > 1 ? ' (↑/↓)' : ''}`
              : ''
          }`}
      </Text>
    </Box>
  );
}
