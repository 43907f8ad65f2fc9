using System.CommandLine;
using System.CommandLine.Parsing;

namespace SharpVision.Cli;

/// <summary>
/// System.CommandLine's parse errors in the form every other error has: one line naming the option or argument,
/// what is allowed and what was received. Value errors are already in that form (<see cref="Flags"/>); this covers
/// unknown commands and options, stray arguments, missing values and missing arguments.
/// </summary>
internal static class ParseErrors
{
    /// <summary>The message and the exit code: 2 for no or an unknown command, 1 otherwise.</summary>
    public static (string Message, int ExitCode) Describe(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        string path = Path(command);
        string? unmatched = parse.UnmatchedTokens.FirstOrDefault(t => t.StartsWith('-')) ?? parse.UnmatchedTokens.FirstOrDefault();
        string commands = string.Join(", ", command.Subcommands.Select(c => c.Name));
        if (command is RootCommand)
            return ($"command must be one of {commands}. Received: {parse.UnmatchedTokens.FirstOrDefault() ?? "no command"}", 2);
        if (unmatched is not null)
        {
            if (unmatched.StartsWith('-') && unmatched.Length > 1)
                return ($"'{path}' has no option {unmatched}. Its options: {string.Join(", ", OptionNames(command))}.", 1);
            if (command.Subcommands.Count > 0 && command.Arguments.Count == 0)
                return (new InvalidOptionException($"{path} ACTION", "one of " + commands, unmatched).Message, 1);
            return ($"'{path}' did not expect '{unmatched}'. Run 'sharpvision {path} --help' for usage.", 1);
        }
        var error = parse.Errors[0];
        return error.SymbolResult switch
        {
            OptionResult { IdentifierToken: null } o =>
                ($"'{path}' needs {o.Option.Name} {o.Option.HelpName}. Run 'sharpvision {path} --help' for usage.", 1),
            OptionResult { Tokens.Count: 0 } o => ($"{o.Option.Name} needs a value. Received: {o.Option.Name} with nothing after it", 1),
            ArgumentResult { Tokens.Count: 0 } a when a.Argument.Arity.MaximumNumberOfValues > 1 =>
                ($"'{path}' needs at least one {a.Argument.Name}. Run 'sharpvision {path} --help' for usage.", 1),
            ArgumentResult { Tokens.Count: 0 } a => ($"'{path}' needs {a.Argument.Name}. Run 'sharpvision {path} --help' for usage.", 1),
            CommandResult when command.Options.FirstOrDefault(o => o.Required && parse.GetResult(o) is null) is { } missing =>
                ($"'{path}' needs {missing.Name} {missing.HelpName}. Run 'sharpvision {path} --help' for usage.", 1),
            CommandResult when command.Subcommands.Count > 0 =>
                ($"'{path}' needs one of {commands}. Run 'sharpvision {path} --help' for usage.", 1),
            _ => (error.Message, 1),
        };
    }

    /// <summary>"train", "detect train": the command as typed after <c>sharpvision</c>.</summary>
    public static string Path(Command command) =>
        string.Join(' ', Lineage(command).Reverse().Where(c => c is not RootCommand).Select(c => c.Name));

    private static IEnumerable<Command> Lineage(Command? command)
    {
        for (; command is not null; command = command.Parents.OfType<Command>().FirstOrDefault())
            yield return command;
    }

    private static IEnumerable<string> OptionNames(Command command) =>
        Lineage(command).SelectMany(c => c.Options).Where(o => o.Recursive || command.Options.Contains(o))
            .Where(o => !o.Hidden && o.Name.StartsWith("--", StringComparison.Ordinal)).Select(o => o.Name).Distinct().Order(StringComparer.Ordinal);
}
