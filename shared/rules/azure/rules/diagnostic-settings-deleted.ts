import type { ArmActivityDetector, ArmActivity, Detection } from '../../types';
import { parseArmId, sameText } from '../arm';

const DELETE = 'Microsoft.Insights/diagnosticSettings/delete';
const WRITE = 'Microsoft.Insights/diagnosticSettings/write';
const DIAGNOSTIC_SETTING_TYPE = 'microsoft.insights/diagnosticsettings';

/**
 * A diagnostic setting deleted: the resource it belonged to stops sending its logs (to Log Analytics, a
 * storage account, an event hub), the classic move before acting unseen. A diagnostic setting is an extension
 * resource, `<resource>/providers/microsoft.insights/diagnosticSettings/<name>`, so the finding is on the
 * resource before `/providers/microsoft.insights/` (a subscription's activity-log export when that is all
 * there is). Writing a setting of the same name again reports a pass, which resolves the finding.
 */
export const diagnosticSettingsDeleted: ArmActivityDetector = {
  id: 'azure.monitor.diagnostic-settings-deleted',
  title: 'Diagnostic setting deleted',
  severity: 'HIGH',
  cloud: 'azure',
  service: 'monitor',
  category: 'activity',
  risk: 'Deleting a diagnostic setting silently stops the resource (or the subscription activity log) from being exported to the SIEM or archive; attackers do it to operate without a trail.',
  remediation: {
    text: 'Confirm the change with the actor; re-create the diagnostic setting (ideally enforced with Azure Policy DeployIfNotExists) and review what the resource did while it was not logging.',
    url: 'https://learn.microsoft.com/azure/azure-monitor/essentials/diagnostic-settings',
  },
  operationNames: [DELETE, WRITE],
  match(event: ArmActivity): Detection[] {
    const setting = parseArmId(event.resourceUri);
    if (setting?.type !== DIAGNOSTIC_SETTING_TYPE || setting.parentId === undefined) return [];
    const owner = parseArmId(setting.parentId);
    if (!owner) return [];
    const deleted = sameText(event.operationName, DELETE);
    if (!deleted && !sameText(event.operationName, WRITE)) return [];
    return [
      {
        outcome: deleted ? 'fail' : 'pass',
        resource: { type: owner.type, id: owner.id, name: owner.name },
        subject: setting.name.toLowerCase(),
        evidence: { diagnosticSetting: setting.name, resourceUri: event.resourceUri, operationName: event.operationName, status: event.status ?? null, correlationId: event.correlationId ?? null },
        ...(deleted ? {} : { resolvedReason: 'diagnostic setting re-created' }),
      },
    ];
  },
};
