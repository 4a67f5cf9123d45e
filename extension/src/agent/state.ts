/** The agent's state as the status bar and the views show it. */
export type AgentState =
  | { readonly kind: 'starting' }
  | { readonly kind: 'ready'; readonly version: string; readonly pid: number }
  | { readonly kind: 'stopped' }
  | { readonly kind: 'error'; readonly message: string };

export function describeAgentState(state: AgentState): string {
  switch (state.kind) {
    case 'starting':
      return 'starting';
    case 'ready':
      return `ready (${state.version})`;
    case 'stopped':
      return 'stopped';
    case 'error':
      return `error: ${state.message}`;
  }
}
