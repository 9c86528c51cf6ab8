import { loadQuery } from './queries';

/** Workbook steps: each shows one of the repository's queries, so the checked KQL is what the workbook runs. */
export const WORKBOOK_STEPS = [
  { name: 'scans-over-time', title: 'Scans over time', file: 'scans-over-time.kql', visualization: 'timechart' },
  { name: 'vulnerabilities-by-severity', title: 'Vulnerabilities by severity (latest scan of each image)', file: 'vulnerabilities-by-severity.kql', visualization: 'barchart' },
  { name: 'top-vulnerable-images', title: 'Top vulnerable images', file: 'top-vulnerable-images.kql', visualization: 'table' },
  { name: 'failures', title: 'Failed and timed-out scans', file: 'failed-scans.kql', visualization: 'table' },
  { name: 'poison-and-deadletter', title: 'Poison messages and dead-lettered events', file: 'poison-and-deadletter.kql', visualization: 'table' },
] as const;

/** A workbook query step is run as written; `render` belongs to the Logs blade, the step's visualization replaces it. */
function withoutRender(query: string): string {
  return query
    .split('\n')
    .filter((line) => !/^\|\s*render\b/.test(line.trim()))
    .join('\n');
}

/** Azure Monitor workbook content (Notebook/1.0) over the Log Analytics workspace. */
export function workbookContent(workspaceId: string): string {
  const items: unknown[] = [
    {
      type: 1,
      name: 'title',
      content: { json: '## shipscan: container image scans\nEvery Azure Container Instances and Container Apps deployment, scanned with Qualys.' },
    },
    ...WORKBOOK_STEPS.map((step) => ({
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
    })),
  ];
  return JSON.stringify({
    version: 'Notebook/1.0',
    items,
    fallbackResourceIds: [workspaceId],
    $schema: 'https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json',
  });
}
