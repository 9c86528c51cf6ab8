export { lambdaContext } from '../../../local/lambda-invocation';
