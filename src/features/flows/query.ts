/**
 * The filter the console's flow streams follow: set by the Flows pane's `/` filter, read
 * by every node's follower (which restarts its GetFlows with the new server-side
 * whitelist). One per process, like the terminal the console owns.
 */
import { type FlowQuery, parseFlowQuery } from './filter.js';

export interface QueryState {
  text: string;
  query: FlowQuery;
  error?: string;
}

const EMPTY: QueryState = { text: '', query: { text: '', whitelist: [] } };

export class QueryHolder {
  #state: QueryState = EMPTY;
  readonly #listeners = new Set<(q: QueryState) => void>();
  get(): QueryState {
    return this.#state;
  }
  /** A new filter text: a bad one keeps the previous query and records why. */
  set(text: string): void {
    if (text.trim() === this.#state.text && this.#state.error === undefined) return;
    const r = parseFlowQuery(text);
    this.#state = r.ok
      ? { text: r.query.text, query: r.query }
      : { text: text.trim(), query: this.#state.query, error: r.error };
    for (const l of this.#listeners) l(this.#state);
  }
  subscribe(l: (q: QueryState) => void): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }
}

/** The console's query (the Flows pane sets it). */
export const consoleFlowQuery = new QueryHolder();
