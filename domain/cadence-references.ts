import { unknownTemplateIssues, type EmailTemplate, type ValidationIssue } from './templates';

/**
 * What a cadence names must be configured where it runs: the templates of its email and statement steps and
 * of its courtesy reminder, and the endpoints of its webhook steps (WEBHOOK_ENDPOINTS, read by the API and the
 * worker alike). Escalation roles are a closed list, checked by the cadence schema itself (ESCALATION_ROLES).
 * Works on unchecked input, so that validation reports these issues together with the schema's; a workflow
 * meeting such a problem anyway (a configuration changed since) parks as needs_attention.
 */
export interface ConfiguredReferences {
  templates: Record<string, EmailTemplate>;
  /** The names of the configured outbound webhook endpoints. */
  webhookEndpoints: readonly string[];
}

export function unknownWebhookEndpointIssues(definition: unknown, endpoints: readonly string[], at: readonly string[]): ValidationIssue[] {
  const steps = (definition as { steps?: unknown } | null)?.steps;
  if (!Array.isArray(steps)) return [];
  const known = endpoints.length ? `configured: ${[...endpoints].sort().join(', ')}` : 'none is configured';
  return steps.flatMap((step: unknown, i) => {
    const action = (step as { action?: { type?: unknown; endpoint?: unknown } } | null)?.action;
    if (action?.type !== 'webhook' || typeof action.endpoint !== 'string' || endpoints.includes(action.endpoint)) return [];
    return [
      {
        path: [...at, 'steps', i, 'action', 'endpoint'].join('.'),
        code: 'unknown_webhook_endpoint',
        message: `webhook endpoint "${action.endpoint}" is not configured in WEBHOOK_ENDPOINTS (${known})`,
      },
    ];
  });
}

/** Every reference of a cadence definition that is not configured, by path under `at`: templates, then webhook endpoints. */
export function cadenceReferenceIssues(definition: unknown, known: ConfiguredReferences, at: readonly string[]): ValidationIssue[] {
  return [...unknownTemplateIssues(definition, known.templates, at), ...unknownWebhookEndpointIssues(definition, known.webhookEndpoints, at)].sort((a, b) =>
    a.path.localeCompare(b.path, 'en', { numeric: true }),
  );
}
