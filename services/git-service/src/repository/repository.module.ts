import { Module, type DynamicModule } from '@nestjs/common';
import { GIT_SERVICE_ENV, type GitServiceEnv } from '../config';
import { GitRepositoryRepository } from './git-repository.repository';
import { RepoController } from './repo.controller';
import { RepoService } from './repo.service';

@Module({})
export class RepositoryModule {
  static forRoot(env: GitServiceEnv): DynamicModule {
    return {
      module: RepositoryModule,
      controllers: [RepoController],
      providers: [{ provide: GIT_SERVICE_ENV, useValue: env }, GitRepositoryRepository, RepoService],
    };
  }
}
