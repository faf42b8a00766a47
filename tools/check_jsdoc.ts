// Lists every exported declaration under a folder (default src/), and every public member of an
// exported class or interface, that has no JSDoc comment (`/** ... */`) in front of it.
// Usage: tsx tools/check_jsdoc.ts [folder]   (exit 1 and one `file:line name` per miss if any)
// Re-exports (`export { x } from './y.js'`) are skipped: the declaration they point at is checked
// in its own file.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/** One declaration without a JSDoc comment: where it is and what it is called. */
export interface MissingDoc {
  /** Path of the source file, relative to the working directory. */
  file: string;
  /** 1-based line of the declaration. */
  line: number;
  /** `name` for a top-level export, `Owner.member` for a member. */
  name: string;
}

function sourceFilesUnder(folder: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(folder)) {
    const path = join(folder, entry);
    if (statSync(path).isDirectory()) found.push(...sourceFilesUnder(path));
    else if (path.endsWith('.ts') && !path.endsWith('.d.ts')) found.push(path);
  }
  return found.sort();
}

function hasJsDoc(node: ts.Node): boolean {
  // NOTE: getJSDocCommentsAndTags also finds the comment of a `const` through its statement.
  return ts.getJSDocCommentsAndTags(node).some((doc) => ts.isJSDoc(doc));
}

function isExported(node: ts.Node): boolean {
  const modifiers = ts.canHaveModifiers(node) ? ts.getModifiers(node) : undefined;
  return modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) ?? false;
}

function isPublicMember(member: ts.ClassElement | ts.TypeElement): boolean {
  if (member.name !== undefined && ts.isPrivateIdentifier(member.name)) return false;
  const modifiers = ts.canHaveModifiers(member) ? ts.getModifiers(member) : undefined;
  // An `override` member is documented by the member it overrides.
  const hidden = [ts.SyntaxKind.PrivateKeyword, ts.SyntaxKind.ProtectedKeyword, ts.SyntaxKind.OverrideKeyword];
  return !(modifiers?.some((m) => hidden.includes(m.kind)) ?? false);
}

function memberName(member: ts.ClassElement | ts.TypeElement, file: ts.SourceFile): string | undefined {
  if (ts.isConstructorDeclaration(member)) return undefined; // the class's comment covers it
  if (ts.isIndexSignatureDeclaration(member) || ts.isCallSignatureDeclaration(member)) return '[signature]';
  return member.name?.getText(file);
}

/** The exported declarations and public members of one file that lack a JSDoc comment. */
export function missingDocsInFile(path: string): MissingDoc[] {
  const file = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
  const missing: MissingDoc[] = [];
  const report = (node: ts.Node, name: string): void => {
    const line = file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
    missing.push({ file: relative(process.cwd(), path), line, name });
  };
  const seenOverloads = new Set<string>();
  for (const statement of file.statements) {
    if (!isExported(statement)) continue;
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (!hasJsDoc(declaration)) report(declaration, declaration.name.getText(file));
      }
      continue;
    }
    const named = statement as ts.DeclarationStatement;
    const name = named.name?.getText(file) ?? 'default';
    if (ts.isFunctionDeclaration(statement)) {
      // Overloads: one comment on the first signature documents them all.
      if (seenOverloads.has(name)) continue;
      seenOverloads.add(name);
    }
    if (!hasJsDoc(statement)) report(statement, name);
    if (ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement)) {
      checkMembers(statement, name, file, report);
    }
  }
  return missing;
}

function checkMembers(
  owner: ts.ClassDeclaration | ts.InterfaceDeclaration,
  ownerName: string,
  file: ts.SourceFile,
  report: (node: ts.Node, name: string) => void,
): void {
  const documented = new Set<string>();
  for (const member of owner.members) {
    if (ts.isConstructorDeclaration(member)) {
      for (const parameter of member.parameters) {
        const isPublicProperty =
          ts.isParameterPropertyDeclaration(parameter, member) &&
          !(ts.getModifiers(parameter)?.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword || m.kind === ts.SyntaxKind.ProtectedKeyword) ?? false);
        if (isPublicProperty && !hasJsDoc(parameter)) {
          report(parameter, `${ownerName}.${parameter.name.getText(file)}`);
        }
      }
    }
    if (!isPublicMember(member)) continue;
    const name = memberName(member, file);
    if (name === undefined) continue;
    // Overloaded methods and get/set pairs: one comment on either documents the member.
    if (hasJsDoc(member)) documented.add(name);
  }
  const reported = new Set<string>();
  for (const member of owner.members) {
    if (!isPublicMember(member)) continue;
    const name = memberName(member, file);
    if (name === undefined || documented.has(name) || reported.has(name)) continue;
    reported.add(name);
    report(member, `${ownerName}.${name}`);
  }
}

/** Every miss under `folder`, file by file in path order. */
export function missingDocs(folder: string): MissingDoc[] {
  return sourceFilesUnder(folder).flatMap(missingDocsInFile);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const missing = missingDocs(process.argv[2] ?? 'src');
  for (const miss of missing) console.log(`${miss.file}:${miss.line} ${miss.name}`);
  if (missing.length > 0) {
    console.error(`${missing.length} exported declarations or public members have no JSDoc comment`);
    process.exitCode = 1;
  }
}
