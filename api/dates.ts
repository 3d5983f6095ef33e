// The bounded date and instant of every API edge; pure, so they live in domain/ (the reports share them).
export * from '../domain/dates';
