// HSX Debug: starts `hsx dap` as the debug adapter (path from the `hsx.path` setting) and
// provides build tasks for `hsx cc -g` and `hsx asm --sym`.
'use strict';

const vscode = require('vscode');
const path = require('path');

function hsxPath() {
  return vscode.workspace.getConfiguration('hsx').get('path') || 'hsx';
}

class AdapterFactory {
  createDebugAdapterDescriptor() {
    return new vscode.DebugAdapterExecutable(hsxPath(), ['dap']);
  }
}

/** The build command of one task definition. */
function buildTask(def, scope) {
  const out = def.output || def.file.replace(/\.(c|mvasm)$/, '.hxe');
  const sym = out.replace(/\.hxe$/, '.sym');
  const args = def.tool === 'cc'
    ? ['cc', '-g', '-O0', def.file, '-o', out]
    : ['asm', def.file, '-o', out, '--sym', sym];
  const task = new vscode.Task(def, scope, `${def.tool} ${path.basename(def.file)}`, 'hsx',
    new vscode.ProcessExecution(hsxPath(), args), ['$gcc']);
  task.group = vscode.TaskGroup.Build;
  return task;
}

class TaskProvider {
  provideTasks() {
    const ed = vscode.window.activeTextEditor;
    if (!ed) return [];
    const file = ed.document.fileName;
    const scope = vscode.workspace.getWorkspaceFolder(ed.document.uri) || vscode.TaskScope.Workspace;
    if (file.endsWith('.c')) return [buildTask({ type: 'hsx', tool: 'cc', file }, scope)];
    if (file.endsWith('.mvasm')) return [buildTask({ type: 'hsx', tool: 'asm', file }, scope)];
    return [];
  }

  resolveTask(task) {
    const def = task.definition;
    if (!def.file || !def.tool) return undefined;
    return buildTask(def, task.scope || vscode.TaskScope.Workspace);
  }
}

function activate(context) {
  context.subscriptions.push(
    vscode.debug.registerDebugAdapterDescriptorFactory('hsx', new AdapterFactory()),
    vscode.tasks.registerTaskProvider('hsx', new TaskProvider()),
  );
}

function deactivate() {}

module.exports = { activate, deactivate };
