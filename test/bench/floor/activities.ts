import type { Transporter } from 'nodemailer';

/**
 * The floor's activities: the same essential I/O as the project's step (a balance GET against the ERP
 * simulator, one SMTP transaction through nodemailer to the same SMTP peer), and nothing more.
 */
export interface FloorDeps {
  erpUrl: string;
  erpApiKey: string;
  mailer: Transporter;
  mailFrom: string;
}

export function createFloorActivities({ erpUrl, erpApiKey, mailer, mailFrom }: FloorDeps) {
  const root = erpUrl.replace(/\/+$/, '');
  return {
    async checkBalance(invoiceNumber: string): Promise<{ status: string; openAmountMinor: number }> {
      const res = await fetch(`${root}/invoices/${encodeURIComponent(invoiceNumber)}`, {
        headers: { authorization: `Bearer ${erpApiKey}`, accept: 'application/json' },
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`ERP answered HTTP ${res.status} for ${invoiceNumber}: ${text.slice(0, 200)}`);
      const { status, openAmountMinor } = JSON.parse(text) as { status: string; openAmountMinor: number };
      return { status, openAmountMinor };
    },

    async send(req: { idempotencyKey: string; invoiceNumber: string; step: number; to: string; openAmountMinor: number }): Promise<void> {
      await mailer.sendMail({
        from: mailFrom,
        to: req.to,
        subject: `Reminder ${req.step}: invoice ${req.invoiceNumber} is past due`,
        text: `Invoice ${req.invoiceNumber}: ${(req.openAmountMinor / 100).toFixed(2)} open.`,
        headers: { 'x-floor-idempotency-key': req.idempotencyKey, 'x-invoice-number': req.invoiceNumber },
      });
    },
  };
}

export type FloorActivities = ReturnType<typeof createFloorActivities>;
