import { Module, type DynamicModule } from '@nestjs/common';
import { TOOL_RUNNER_ENV, type ToolRunnerEnv } from '../config';
import { WorkspaceFilesRepository } from '../workspace/workspace-files.repository';
import { ToolController } from './tool.controller';
import { ToolExecutionService } from './tool-execution.service';

@Module({})
export class ExecutionModule {
  static forRoot(env: ToolRunnerEnv): DynamicModule {
    return {
      module: ExecutionModule,
      controllers: [ToolController],
      providers: [{ provide: TOOL_RUNNER_ENV, useValue: env }, WorkspaceFilesRepository, ToolExecutionService],
    };
  }
}
