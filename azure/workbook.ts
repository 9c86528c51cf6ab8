import { loadQuery } from './queries';

/** Workbook steps: each shows one of the repository's queries, so the checked KQL is what the workbook runs. */
export const WORKBOOK_STEPS = [
  { name: 'scans-over-time', title: 'Scans over time', file: 'scans-over-time.kql', visualization: 'timechart' },
  { name: 'vulnerabilities-by-severity', title: 'Vulnerabilities by severity (latest scan of each image)', file: 'vulnerabilities-by-severity.kql', visualization: 'barchart' },
  { name: 'top-vulnerable-images', title: 'Top vulnerable images', file: 'top-vulnerable-images.kql', visualization: 'table' },
  { name: 'failures', title: 'Failed and timed-out scans', file: 'failed-scans.kql', visualization: 'table' },
  { name: 'poison-and-deadletter', title: 'Poison messages and dead-lettered events', file: 'poison-and-deadletter.kql', visualization: 'table' },
  // Security findings (every category: security events, posture, vulnerabilities), below their own header.
  { name: 'findings-open-by-severity', title: 'Open security findings by severity', file: 'security-findings-open-by-severity.kql', visualization: 'barchart', section: 'findings' },
  { name: 'findings-recent-transitions', title: 'Finding transitions (24 h)', file: 'security-findings-recent-transitions.kql', visualization: 'table', section: 'findings' },
  { name: 'findings-top-actors', title: 'Top risky actors (30 days)', file: 'security-findings-top-actors.kql', visualization: 'table', section: 'findings' },
  { name: 'findings-by-rule', title: 'Findings by rule (30 days)', file: 'security-findings-by-rule.kql', visualization: 'table', section: 'findings' },
] as const;

/** A workbook query step is run as written; `render` belongs to the Logs blade, the step's visualization replaces it. */
function withoutRender(query: string): string {
  return query
    .split('\n')
    .filter((line) => !/^\|\s*render\b/.test(line.trim()))
    .join('\n');
}

/** The section of security findings starts at its first step, under a header of its own. */
const FINDINGS_HEADER = {
  type: 1,
  name: 'findings-title',
  content: { json: '## Security findings\nFindings of every kind (security events, posture rules, vulnerabilities), from the `SecurityFinding` events.' },
};

/** Azure Monitor workbook content (Notebook/1.0) over the Log Analytics workspace. */
export function workbookContent(workspaceId: string): string {
  const firstFindingsStep = WORKBOOK_STEPS.findIndex((step) => 'section' in step && step.section === 'findings');
  const items: unknown[] = [
    {
      type: 1,
      name: 'title',
      content: { json: '## shipscan: container image scans\nEvery Azure Container Instances and Container Apps deployment, scanned with Qualys.' },
    },
    ...WORKBOOK_STEPS.flatMap((step, index) => [
      ...(index === firstFindingsStep ? [FINDINGS_HEADER] : []),
      {
        type: 3,
        name: step.name,
        content: {
          version: 'KqlItem/1.0',
          title: step.title,
          query: withoutRender(loadQuery(step.file)),
          size: 0,
          queryType: 0,
          resourceType: 'microsoft.operationalinsights/workspaces',
          crossComponentResources: [workspaceId],
          visualization: step.visualization,
        },
      },
    ]),
  ];
  return JSON.stringify({
    version: 'Notebook/1.0',
    items,
    fallbackResourceIds: [workspaceId],
    $schema: 'https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json',
  });
}
