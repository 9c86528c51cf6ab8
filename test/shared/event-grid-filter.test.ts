import { expect } from 'chai';
import { containerWritesFilter } from '../../azure/event-subscription-filter';
import { containerDeployment } from '../../local/demo/scenario';
import { evaluateEventGridFilter, EventGridFilterError, type AdvancedFilter, type EventGridFilter } from '../../shared/event-pattern/event-grid-filter';
import { loadCorpus } from '../support/corpus';

/** The examples of "Understand event filtering for Event Grid subscriptions", retyped with their documented verdicts. */
const event = (data: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: '1',
  topic: '/subscriptions/s',
  subject: '/blobServices/default/containers/testcontainer/blobs/log.txt',
  eventType: 'Microsoft.Storage.BlobCreated',
  dataVersion: '1',
  data,
  ...extra,
});
const only = (filter: AdvancedFilter): EventGridFilter => ({ advancedFilters: [filter] });

const cases: [string, EventGridFilter, unknown, boolean][] = [
  ['event types: BlobCreated is one of BlobCreated, BlobDeleted', { includedEventTypes: ['Microsoft.Storage.BlobCreated', 'Microsoft.Storage.BlobDeleted'] }, event({}), true],
  ['event types: ResourceWriteSuccess is not', { includedEventTypes: ['Microsoft.Storage.BlobCreated', 'Microsoft.Storage.BlobDeleted'] }, event({}, { eventType: 'Microsoft.Resources.ResourceWriteSuccess' }), false],
  ['event types: All', { includedEventTypes: ['All'] }, event({}), true],
  ['subject begins with the container', { subjectBeginsWith: '/blobServices/default/containers/testcontainer' }, event({}), true],
  ['subject begins with another container', { subjectBeginsWith: '/blobServices/default/containers/other/' }, event({}), false],
  ['subject ends with .txt', { subjectEndsWith: '.txt' }, event({}), true],
  ['subject ends with .jpg', { subjectEndsWith: '.jpg' }, event({}), false],
  ['subject match ignores case by default', { subjectEndsWith: '.TXT' }, event({}), true],
  ['subject match with isSubjectCaseSensitive', { subjectEndsWith: '.TXT', isSubjectCaseSensitive: true }, event({}), false],
  ['NumberIn: counter 5 is 5 or 1', only({ operatorType: 'NumberIn', key: 'data.counter', values: [5, 1] }), event({ counter: 5 }), true],
  ['NumberIn: counter 2', only({ operatorType: 'NumberIn', key: 'data.counter', values: [5, 1] }), event({ counter: 2 }), false],
  ['NumberNotIn: counter 7 is not 41 or 0', only({ operatorType: 'NumberNotIn', key: 'data.counter', values: [41, 0] }), event({ counter: 7 }), true],
  ['NumberNotIn: counter 0', only({ operatorType: 'NumberNotIn', key: 'data.counter', values: [41, 0] }), event({ counter: 0 }), false],
  ['NumberLessThan 100: 99', only({ operatorType: 'NumberLessThan', key: 'data.counter', value: 100 }), event({ counter: 99 }), true],
  ['NumberGreaterThan 20: 20', only({ operatorType: 'NumberGreaterThan', key: 'data.counter', value: 20 }), event({ counter: 20 }), false],
  ['NumberLessThanOrEquals 100: 100', only({ operatorType: 'NumberLessThanOrEquals', key: 'data.counter', value: 100 }), event({ counter: 100 }), true],
  ['NumberGreaterThanOrEquals 30: 29', only({ operatorType: 'NumberGreaterThanOrEquals', key: 'data.counter', value: 30 }), event({ counter: 29 }), false],
  ['NumberInRange: 3500 is in 3000-4000', only({ operatorType: 'NumberInRange', key: 'data.key1', values: [[3.14159, 999.95], [3000, 4000]] }), event({ key1: 3500 }), true],
  ['NumberInRange: 1500 is in neither range', only({ operatorType: 'NumberInRange', key: 'data.key1', values: [[3.14159, 999.95], [3000, 4000]] }), event({ key1: 1500 }), false],
  ['NumberNotInRange: 500 is in a range', only({ operatorType: 'NumberNotInRange', key: 'data.key1', values: [[3.14159, 999.95], [3000, 4000]] }), event({ key1: 500 }), false],
  ['BoolEquals true: isEnabled true', only({ operatorType: 'BoolEquals', key: 'data.isEnabled', value: true }), event({ isEnabled: true }), true],
  ['StringContains: "azure data factory" contains azure', only({ operatorType: 'StringContains', key: 'data.key1', values: ['microsoft', 'azure'] }), event({ key1: 'azure data factory' }), true],
  ['StringNotContains: "contoso corp" contains contoso', only({ operatorType: 'StringNotContains', key: 'data.key1', values: ['contoso', 'fabrikam'] }), event({ key1: 'contoso corp' }), false],
  ['StringBeginsWith: "event hubs" begins with event', only({ operatorType: 'StringBeginsWith', key: 'data.key1', values: ['event', 'message'] }), event({ key1: 'event hubs' }), true],
  ['StringNotBeginsWith: "event hubs" begins with event', only({ operatorType: 'StringNotBeginsWith', key: 'data.key1', values: ['event', 'message'] }), event({ key1: 'event hubs' }), false],
  ['StringEndsWith: eventgrid.png ends with png', only({ operatorType: 'StringEndsWith', key: 'data.key1', values: ['jpg', 'jpeg', 'png'] }), event({ key1: 'eventgrid.png' }), true],
  ['StringNotEndsWith: eventgrid.png ends with png', only({ operatorType: 'StringNotEndsWith', key: 'data.key1', values: ['jpg', 'jpeg', 'png'] }), event({ key1: 'eventgrid.png' }), false],
  ['StringIn: fabrikam is one of contoso, fabrikam, factory', only({ operatorType: 'StringIn', key: 'data.key1', values: ['contoso', 'fabrikam', 'factory'] }), event({ key1: 'fabrikam' }), true],
  ['StringIn is not case-sensitive: FABRIKAM', only({ operatorType: 'StringIn', key: 'data.key1', values: ['contoso', 'fabrikam', 'factory'] }), event({ key1: 'FABRIKAM' }), true],
  ['StringNotIn: aws is excluded', only({ operatorType: 'StringNotIn', key: 'data.key1', values: ['aws', 'bridge'] }), event({ key1: 'aws' }), false],
  ['a missing key fails StringIn', only({ operatorType: 'StringIn', key: 'data.key1', values: ['contoso'] }), event({}), false],
  ['a missing key fails StringContains', only({ operatorType: 'StringContains', key: 'data.key1', values: ['contoso'] }), event({}), false],
  ['a missing key passes StringNotIn', only({ operatorType: 'StringNotIn', key: 'data.key1', values: ['aws'] }), event({}), true],
  ['a missing key passes NumberNotIn', only({ operatorType: 'NumberNotIn', key: 'data.counter', values: [1] }), event({}), true],
  ['IsNullOrUndefined: key1 missing', only({ operatorType: 'IsNullOrUndefined', key: 'data.key1' }), event({ key2: 5 }), true],
  ['IsNullOrUndefined: key1 null', only({ operatorType: 'IsNullOrUndefined', key: 'data.key1' }), event({ key1: null }), true],
  ['IsNullOrUndefined: key1 set', only({ operatorType: 'IsNullOrUndefined', key: 'data.key1' }), event({ key1: 'x' }), false],
  ['IsNotNull: key1 null', only({ operatorType: 'IsNotNull', key: 'data.key1' }), event({ key1: null }), false],
  ['a value of another type is ignored: "5" is no number', only({ operatorType: 'NumberIn', key: 'data.counter', values: [5] }), event({ counter: '5' }), false],
  ['arrays with enableAdvancedFilteringOnArrays: any element', { enableAdvancedFilteringOnArrays: true, advancedFilters: [{ operatorType: 'StringIn', key: 'data.tags', values: ['b'] }] }, event({ tags: ['a', 'b'] }), true],
  ['arrays with enableAdvancedFilteringOnArrays: NotIn fails on any element', { enableAdvancedFilteringOnArrays: true, advancedFilters: [{ operatorType: 'StringNotIn', key: 'data.tags', values: ['b'] }] }, event({ tags: ['a', 'b'] }), false],
  ['arrays without enableAdvancedFilteringOnArrays do not match', only({ operatorType: 'StringIn', key: 'data.tags', values: ['b'] }), event({ tags: ['a', 'b'] }), false],
  [
    'AND of two filters on Subject: devtestlab and virtualMachines',
    { advancedFilters: [{ operatorType: 'StringContains', key: 'Subject', values: ['/providers/microsoft.devtestlab/'] }, { operatorType: 'StringContains', key: 'Subject', values: ['/providers/Microsoft.Compute/virtualMachines/'] }] },
    event({}, { subject: '/subscriptions/s/resourceGroups/g/providers/Microsoft.DevTestLab/labs/l/providers/Microsoft.Compute/virtualMachines/vm' }),
    true,
  ],
  [
    'AND of two filters on Subject: a VM outside a lab',
    { advancedFilters: [{ operatorType: 'StringContains', key: 'Subject', values: ['/providers/microsoft.devtestlab/'] }, { operatorType: 'StringContains', key: 'Subject', values: ['/providers/Microsoft.Compute/virtualMachines/'] }] },
    event({}, { subject: '/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm' }),
    false,
  ],
];

describe('Event Grid subscription filter evaluator: the examples of the Event Grid filtering guide', () => {
  for (const [name, filter, input, matches] of cases) {
    it(`${matches ? 'delivers' : 'drops'}: ${name}`, () => {
      const verdict = evaluateEventGridFilter(filter, input, 'eventgrid');
      expect(verdict.matched, verdict.matched ? '' : verdict.reason).to.equal(matches);
    });
  }

  it('CloudEvents: keys are the CloudEvents attributes, extensions included', () => {
    const cloudEvent = { specversion: '1.0', type: 'com.example.someevent', source: '/mycontext', id: 'C234-1234-1234', comexampleothervalue: 5, data: { appinfoA: 'abc' } };
    expect(evaluateEventGridFilter({ includedEventTypes: ['com.example.someevent'], advancedFilters: [{ operatorType: 'StringIn', key: 'data.appinfoA', values: ['ABC'] }] }, cloudEvent, 'cloudevents').matched).to.equal(true);
    expect(evaluateEventGridFilter({ advancedFilters: [{ operatorType: 'NumberIn', key: 'comexampleothervalue', values: [5] }] }, cloudEvent, 'cloudevents').matched).to.equal(true);
    expect(evaluateEventGridFilter({ includedEventTypes: ['com.example.other'] }, cloudEvent, 'cloudevents').matched).to.equal(false);
  });

  it('refuses an operator it does not know, and values of the wrong type', () => {
    expect(() => evaluateEventGridFilter(only({ operatorType: 'StringLike' as AdvancedFilter['operatorType'], key: 'data.a', values: ['x'] }), event({ a: 'x' }), 'eventgrid')).to.throw(EventGridFilterError, 'unsupported');
    expect(() => evaluateEventGridFilter(only({ operatorType: 'NumberIn', key: 'data.a', values: ['x'] }), event({ a: 1 }), 'eventgrid')).to.throw(EventGridFilterError, 'must be numbers');
  });
});

describe("the stack's container-writes filter on published events", () => {
  const filter = containerWritesFilter();
  /** Published samples and the demo's events come as Event Grid delivers them: an array. */
  const first = (document: unknown): Record<string, unknown> => (Array.isArray(document) ? document[0] : document) as Record<string, unknown>;
  it('delivers container group and container app writes in both schemas', () => {
    for (const kind of ['ACI', 'ACA'] as const) {
      expect(evaluateEventGridFilter(filter, first(containerDeployment(kind, 'w', ['nginx']).event), 'eventgrid').matched, kind).to.equal(true);
    }
    const cloudEvent = first(loadCorpus('azure/cloudevents-resourcewritesuccess.azure-sdk-for-go-test.json'));
    const asContainerApp = { ...cloudEvent, data: { ...(cloudEvent.data as Record<string, unknown>), operationName: 'Microsoft.App/containerApps/write' } };
    expect(evaluateEventGridFilter(filter, asContainerApp, 'cloudevents').matched).to.equal(true);
  });

  it('drops a storage account write, a failed write and a delete, saying why', () => {
    const storage = evaluateEventGridFilter(filter, first(loadCorpus('azure/eventgrid-resourcewritesuccess-storage.azuredocs.json')), 'eventgrid');
    expect(storage.matched === false && storage.reason).to.match(/^data\.operationName is "Microsoft\.Storage\/storageAccounts\/write" \(StringIn/);
    const failure = evaluateEventGridFilter(filter, first(loadCorpus('azure/eventgrid-resourcewritefailure.azure-sdk-for-net-test.json')), 'eventgrid');
    expect(failure.matched === false && failure.reason).to.include('event type "Microsoft.Resources.ResourceWriteFailure" is not one of');
    const deleted = evaluateEventGridFilter(filter, first(loadCorpus('azure/cloudevents-resourcedeletesuccess.azure-sdk-for-go-test.json')), 'cloudevents');
    expect(deleted.matched).to.equal(false);
  });
});
