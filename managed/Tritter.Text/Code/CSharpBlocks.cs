using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Tritter.Text.Code;

/// <summary>C# blocks from Roslyn's syntax tree: each type and each top-level method or statement, inside namespaces.</summary>
internal static class CSharpBlocks
{
    public static IReadOnlyList<CodeBlock> Split(string source)
    {
        var root = CSharpSyntaxTree.ParseText(source).GetCompilationUnitRoot();
        var blocks = new List<CodeBlock>();
        AddMembers(root.Members, blocks);
        return blocks;
    }

    private static void AddMembers(SyntaxList<MemberDeclarationSyntax> members, List<CodeBlock> blocks)
    {
        foreach (var member in members)
        {
            if (member is BaseNamespaceDeclarationSyntax ns)
            {
                AddMembers(ns.Members, blocks);
                continue;
            }
            var kind = member switch
            {
                ClassDeclarationSyntax or RecordDeclarationSyntax => "class",
                BaseTypeDeclarationSyntax or DelegateDeclarationSyntax => "type",
                GlobalStatementSyntax { Statement: LocalFunctionStatementSyntax } => "function",
                MethodDeclarationSyntax => "function",
                _ => "block",
            };
            // The full span holds the member's leading comments and attributes and its trailing line break.
            blocks.Add(new CodeBlock(member.FullSpan.Start, member.FullSpan.Length, kind));
        }
    }
}
