import type { ConsolePages } from './index';

/** (being written) */
export const dashboardPages: ConsolePages = async () => {};
