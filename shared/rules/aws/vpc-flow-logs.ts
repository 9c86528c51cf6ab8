import type { ActivityDetector } from '../types';
import { arn, fail, field, isObject, list, obj, request, resource, response, strings } from './record';

/**
 * VPC flow logs deleted: the network record of who talked to what disappears. The request is XML-derived:
 * `DeleteFlowLogsRequest.FlowLogId` is `{ content: "fl-...", tag: 1 }`; several ids are read as a list of
 * those or a list in `content` (the multi-id shape is unverified). Ids the response lists as unsuccessful
 * were not deleted. Nothing resolves a deletion: a new flow log gets a new id.
 */

function requestedIds(req: Record<string, unknown>): string[] {
  const body = obj(req.DeleteFlowLogsRequest) ?? req;
  const out: string[] = [];
  for (const entry of list(field(body, 'FlowLogId', 'FlowLogIds', 'flowLogIds', 'flowLogId'))) {
    if (typeof entry === 'string') out.push(entry);
    else if (isObject(entry)) out.push(...strings(entry.content));
  }
  return [...new Set(out.filter((id) => id.startsWith('fl-')))];
}

/** Ids named anywhere in `DeleteFlowLogsResponse.unsuccessful` (empty string when all succeeded). */
function unsuccessfulIds(resp: Record<string, unknown>): Set<string> {
  const unsuccessful = obj(resp.DeleteFlowLogsResponse)?.unsuccessful ?? resp.unsuccessful;
  const text = typeof unsuccessful === 'string' ? unsuccessful : JSON.stringify(unsuccessful ?? '');
  return new Set(text.match(/fl-[0-9a-f]+/g) ?? []);
}

export const vpcFlowLogsDeleted: ActivityDetector = {
  id: 'aws.ec2.flow-logs-deleted',
  title: 'VPC flow logs deleted',
  severity: 'MEDIUM',
  cloud: 'aws',
  category: 'activity',
  service: 'ec2',
  risk: 'Flow logs are the record of network connections in the VPC; once deleted, exfiltration and lateral movement leave no network trace.',
  remediation: { text: 'Recreate the flow log for the VPC, subnet or interface, and restrict ec2:DeleteFlowLogs.', url: 'https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs.html' },
  eventSource: 'ec2.amazonaws.com',
  eventNames: ['DeleteFlowLogs'],
  match(record, ctx) {
    const failed = unsuccessfulIds(response(record));
    return requestedIds(request(record))
      .filter((id) => !failed.has(id))
      .map((id) => fail(resource('AWS::EC2::FlowLog', arn(ctx, 'ec2', `vpc-flow-log/${id}`), id), '', { flowLogId: id }, { title: `VPC flow log ${id} deleted` }));
  },
};
