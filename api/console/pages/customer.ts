import type { ConsolePages } from './index';

/** (being written) */
export const customerPages: ConsolePages = async () => {};
