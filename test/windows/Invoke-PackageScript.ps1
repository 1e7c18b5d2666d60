# Runs one package script unmodified on a simulated Windows host, as the SSM agent runs it
# (`powershell.exe -NoProfile -NonInteractive -ExecutionPolicy unrestricted -f <script>`), with the
# stand-ins of WindowsHost.psm1 in its session: `-File` alone could not put a function in place of a
# cmdlet. $env:TEMP (the SYSTEM account's) and $env:ProgramFiles are folders of the host.
# The script's exit code goes to <host>/exit-code as well: on Linux a process exit code keeps only
# its low 8 bits, and 3010 must be read whole. A script ended by an uncaught error exits 1, as
# powershell.exe -File does.
param(
    [Parameter(Mandatory)][string]$HostDir,
    [Parameter(Mandatory)][string]$Script
)
$env:TEMP = Join-Path $HostDir 'Windows\Temp'
$env:ProgramFiles = Join-Path $HostDir 'Program Files'
Import-Module (Join-Path $PSScriptRoot 'WindowsHost.psm1') -ArgumentList (Join-Path $HostDir 'host.json') -Force
$global:LASTEXITCODE = 0
$code = 1
try {
    & $Script
    $code = $LASTEXITCODE
} catch {
    Write-Output "uncaught error: $($_.Exception.Message) at $($_.InvocationInfo.PositionMessage)"
} finally {
    Set-Content -LiteralPath (Join-Path $HostDir 'exit-code') -Value $code
}
exit ($code -band 0xFF)
