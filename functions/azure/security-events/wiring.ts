import type { TokenCredential } from '@azure/identity';
import type { NotificationChannel } from '../../../shared/findings/notifier';
import { FindingRecorder } from '../../../shared/findings/recorder';
import { compileSuppressions } from '../../../shared/findings/suppressions';
import { emitFindingTransitions } from '../finding-telemetry';
import { TableFindingStore } from '../findings-store';
import { channelsFromConfig } from '../notify/channels';
import type { MailSink } from '../../notify/mail-recorder';
import type { AppSettings } from '../settings';
import type { ScanStore } from '../scan-store';
import type { StorageClients } from '../storage-clients';
import type { Telemetry } from '../telemetry';
import { ArmRestReader, type ArmResourceReader } from './arm-resource';
import { createOnSecurityEvent } from './handler';

/** Parts a test or the local stack may replace (everything else comes from the settings). */
export interface SecurityEventOverrides {
  arm?: ArmResourceReader;
  /** Channels instead of those built from the findings settings (the local stack writes emails to files). */
  channels?: readonly NotificationChannel[];
  /** Keeps a copy of each email the SMTP channel sent. */
  mailRecorder?: MailSink;
}

const LOOPBACK_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|\[::1\]|localhost)$/i;

/**
 * The findings recorder of the Function App, from `shipscan:findings` (FINDINGS_CONFIG and its secret
 * settings): the Table store, the channels (SMTP with the Key Vault credentials, Slack, Teams), immediate
 * notices at the threshold, suppressions, lastSeenAt kept on every sighting, and one `SecurityFinding`
 * event per transition as it is written (so a notice that fails later still leaves exactly one event).
 */
export function createFindingRecorder(input: { settings: AppSettings; storage: StorageClients; telemetry: Telemetry; local: boolean; overrides: SecurityEventOverrides }) {
  const { settings, storage, telemetry, local, overrides } = input;
  const config = settings.findings.config;
  const store = new TableFindingStore(storage.table(settings.findingsTable), storage.table(settings.findingsIndexTable));
  const smtpHost = config.email?.smtp?.host;
  const channels =
    overrides.channels ??
    channelsFromConfig(config, {
      ...(settings.findings.smtpCredentials ? { smtpCredentials: settings.findings.smtpCredentials } : {}),
      ...(overrides.mailRecorder ? { mailRecorder: overrides.mailRecorder } : {}),
      // Only a local run talks to a relay on this machine without TLS (the channel refuses any other host).
      plaintextLoopbackSmtp: local && smtpHost !== undefined && LOOPBACK_HOST.test(smtpHost),
    });
  const recorder = new FindingRecorder({
    store,
    channels,
    policy: { severityThreshold: config.severityThreshold, notifyOnResolve: config.notifyOnResolve, mode: 'immediate' },
    suppressions: compileSuppressions(config.suppressions),
    persistTouches: true,
    onTransition: (transition) => {
      if (transition.kind !== 'touch') emitFindingTransitions(telemetry, [transition]);
    },
  });
  return { store, recorder, channels };
}

/** The onSecurityEvent handler with everything it uses. */
export function createSecurityEventHandler(input: {
  settings: AppSettings;
  credential: TokenCredential;
  storage: StorageClients;
  telemetry: Telemetry;
  errors: Pick<ScanStore, 'saveErrorRecord'> & { ensure(): Promise<void> };
  local: boolean;
  maxDequeueCount: number;
  overrides?: SecurityEventOverrides;
}) {
  const { settings } = input;
  const overrides = input.overrides ?? {};
  const { store, recorder } = createFindingRecorder({ settings, storage: input.storage, telemetry: input.telemetry, local: input.local, overrides });
  return createOnSecurityEvent({
    arm: overrides.arm ?? new ArmRestReader(input.credential, settings.armEndpoint),
    recorder,
    errors: input.errors,
    ensure: async () => {
      await Promise.all([store.ensure(), input.errors.ensure()]);
    },
    telemetry: input.telemetry,
    allowLists: settings.findings.config.allowLists,
    disabledRules: settings.findings.config.disabledRules,
    maxDequeueCount: input.maxDequeueCount,
    queueName: settings.securityEventsQueue,
  });
}
