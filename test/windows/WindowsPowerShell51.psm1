# What keeps a script from running on Windows PowerShell 5.1, the PowerShell the SSM agent runs
# package scripts with: judged by PowerShell's own parser and syntax tree, not by text search.
# - parse errors;
# - bytes outside ASCII: 5.1 reads a file without a byte order mark in the ANSI code page, where
#   UTF-8's punctuation turns into other characters (some of them quotes);
# - syntax PowerShell 6 and 7 added: ternary `a ? b : c`, `??`, `??=`, `?.`, `?[]`, pipeline chains
#   `&&` and `||`, the `clean {}` block;
# - cmdlets and parameters PowerShell 6 and 7 added, and their automatic variables.
# Sources: about_Operators, about_Pipeline_Chain_Operators, about_Functions_Advanced_Methods (clean),
# "What's New in PowerShell 7.x" and the 5.1 cmdlet reference (learn.microsoft.com).

Set-StrictMode -Version 3.0

# Cmdlets Windows PowerShell 5.1 does not have.
$script:NewCmdlets = @(
    'Join-String', 'Get-Error', 'Test-Json', 'ConvertFrom-Markdown', 'Show-Markdown', 'Get-MarkdownOption',
    'Set-MarkdownOption', 'Get-Uptime', 'Remove-Alias', 'Remove-Service', 'Get-PSSubsystem',
    'Enable-ExperimentalFeature', 'Disable-ExperimentalFeature', 'Get-ExperimentalFeature'
)
# Parameters Windows PowerShell 5.1's cmdlets do not have (cmdlet -> parameters).
$script:NewParameters = @{
    'ForEach-Object'   = @('Parallel', 'ThrottleLimit', 'TimeoutSeconds', 'AsJob')
    'ConvertFrom-Json' = @('AsHashtable', 'Depth', 'NoEnumerate')
    'ConvertTo-Json'   = @('EnumsAsStrings', 'AsArray', 'EscapeHandling')
    'Start-Process'    = @('Environment')
    'Get-Content'      = @('AsByteStream')
    'Set-Content'      = @('AsByteStream')
    'Add-Content'      = @('AsByteStream')
    'Split-Path'       = @('Extension', 'LeafBase')
    'Get-Date'         = @('AsUTC', 'UnixTimeSeconds')
    'Select-Object'    = @('SkipIndex')
    'Test-Connection'  = @('TargetName', 'Ping', 'TcpPort', 'Traceroute', 'MtuSize')
    'Invoke-WebRequest' = @('SkipCertificateCheck', 'Authentication', 'Token', 'SslProtocol', 'Resume', 'SkipHttpErrorCheck')
    'Invoke-RestMethod' = @('SkipCertificateCheck', 'Authentication', 'Token', 'SslProtocol', 'Resume', 'SkipHttpErrorCheck', 'StatusCodeVariable')
}
# Automatic variables PowerShell 6 and 7 added.
$script:NewVariables = @('IsWindows', 'IsLinux', 'IsMacOS', 'IsCoreCLR', 'PSStyle')

<#
.SYNOPSIS
The reasons the script at -Path cannot run on Windows PowerShell 5.1, one string each, with its
line; none when it can.
#>
function Get-WindowsPowerShell51Problem {
    [CmdletBinding()]
    param([Parameter(Mandatory)][string]$Path)
    $tokens = $null
    $errors = $null
    $ast = [System.Management.Automation.Language.Parser]::ParseFile($Path, [ref]$tokens, [ref]$errors)
    foreach ($e in $errors) { "line $($e.Extent.StartLineNumber): parse error: $($e.Message)" }

    $bytes = [System.IO.File]::ReadAllBytes($Path)
    $bom = $bytes.Length -ge 3 -and $bytes[0] -eq 0xEF -and $bytes[1] -eq 0xBB -and $bytes[2] -eq 0xBF
    if (-not $bom) {
        $line = 1
        foreach ($b in $bytes) {
            if ($b -eq 10) { $line++ }
            elseif ($b -gt 127) { "line ${line}: a byte outside ASCII (0x$('{0:X2}' -f $b)) in a file without a byte order mark: 5.1 reads it in the ANSI code page"; break }
        }
    }

    $found = $ast.FindAll({ $true }, $true)
    foreach ($node in $found) {
        $at = "line $($node.Extent.StartLineNumber)"
        switch ($node.GetType().Name) {
            'TernaryExpressionAst' { "${at}: the ternary operator (PowerShell 7): $($node.Extent.Text)" }
            'PipelineChainAst' { "${at}: a pipeline chain && or || (PowerShell 7): $($node.Extent.Text)" }
            'BinaryExpressionAst' {
                if ($node.Operator -eq 'QuestionQuestion') { "${at}: the null-coalescing operator ?? (PowerShell 7): $($node.Extent.Text)" }
            }
            'AssignmentStatementAst' {
                if ($node.Operator -eq 'QuestionQuestionEquals') { "${at}: the null-coalescing assignment ??= (PowerShell 7): $($node.Extent.Text)" }
            }
            { $_ -in 'MemberExpressionAst', 'InvokeMemberExpressionAst', 'IndexExpressionAst' } {
                if ($node.NullConditional) { "${at}: a null-conditional ?. or ?[] (PowerShell 7): $($node.Extent.Text)" }
            }
            'NamedBlockAst' {
                if ($node.BlockKind -eq 'Clean') { "${at}: a clean block (PowerShell 7.3)" }
            }
            'VariableExpressionAst' {
                if ($script:NewVariables -contains $node.VariablePath.UserPath) { "${at}: the automatic variable `$$($node.VariablePath.UserPath) (PowerShell 6 and later)" }
            }
            'CommandAst' {
                $name = $node.GetCommandName()
                if ($name -and $script:NewCmdlets -contains $name) { "${at}: the cmdlet $name (PowerShell 6 and later)" }
                $key = @($script:NewParameters.Keys | Where-Object { $_ -eq $name })
                if ($key.Count -gt 0) {
                    foreach ($p in $node.CommandElements) {
                        if ($p -is [System.Management.Automation.Language.CommandParameterAst]) {
                            if ($script:NewParameters[$key[0]] -contains $p.ParameterName) { "${at}: $name -$($p.ParameterName) (PowerShell 6 and later)" }
                        }
                    }
                }
            }
        }
    }
}

Export-ModuleMember -Function Get-WindowsPowerShell51Problem
