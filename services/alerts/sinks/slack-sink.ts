/**
 * The Slack-compatible incoming-webhook sink: a `text` fallback plus Block Kit blocks (header,
 * what happened, root cause, recommended action). Slack, Mattermost and Rocket.Chat accept it.
 */
import { displayText } from '../../display-text.js';
import type { AlertSink, GovernorAlert } from '../types.js';
import { checkSinkName, checkUrl, httpTarget, postJson } from './http.js';

export interface SlackSinkOptions {
  /** The incoming-webhook URL (it is a secret: it never appears in logs or errors). */
  readonly url: string;
  /** Default `slack`. */
  readonly name?: string;
  /** Per request, default 5000. */
  readonly timeoutMs?: number;
}

/** Slack's limit for a section's text is 3000 characters; stay under it. */
const SECTION_CHARS_MAX = 2_900;
const HEADER_CHARS_MAX = 150;

/**
 * Alert text as Slack shows it: control, bidi and zero-width characters as visible escapes
 * (`displayText`), then `&`, `<` and `>`, which are markup in Slack (`<!channel>` pings
 * everyone), as entities.
 */
export function escapeSlack(text: string): string {
  return displayText(text).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export interface SlackPayload {
  readonly text: string;
  readonly blocks: ReadonlyArray<Record<string, unknown>>;
}

export function slackPayload(alert: GovernorAlert, resolved: boolean): SlackPayload {
  const prefix = resolved ? 'RESOLVED' : alert.severity;
  const headline = `${prefix}: ${alert.title}`;
  const section = (text: string) => ({
    type: 'section',
    text: { type: 'mrkdwn', text: cut(text, SECTION_CHARS_MAX) },
  });
  const blocks: Array<Record<string, unknown>> = [
    {
      type: 'header',
      text: { type: 'plain_text', text: displayText(headline, { maxLength: HEADER_CHARS_MAX }) },
    },
  ];
  if (resolved) {
    const at = alert.resolvedAt?.toISOString() ?? 'now';
    blocks.push(section(`Resolved by an operator's restart at ${at}.`));
  } else {
    blocks.push(
      section(escapeSlack(alert.message)),
      section(`*Root cause:* ${escapeSlack(alert.rootCause)}`),
      section(`*Recommended action:* ${escapeSlack(alert.recommendedAction)}`),
    );
  }
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: cut(
          escapeSlack(
            `governor · ${alert.kind} · incident ${alert.dedupKey} · alert ${alert.alertId}`,
          ),
          SECTION_CHARS_MAX,
        ),
      },
    ],
  });
  return { text: escapeSlack(headline), blocks };
}

export function slackSink(options: SlackSinkOptions): AlertSink {
  const name = checkSinkName('slack', options.name, 'slack');
  const target = httpTarget(name, checkUrl(name, 'url', options.url), options);
  return {
    name,
    deliver: (alert) => postJson(name, target, slackPayload(alert, false)),
    resolve: (alert) => postJson(name, target, slackPayload(alert, true)),
  };
}
