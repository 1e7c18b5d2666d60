# Helpers of the Windows suite (WindowsScripts.Tests.ps1): a fresh simulated Windows host per case,
# the rendered package folders (render.ts, in $env:UPTYCS_WINDOWS_PACKAGES), a script run as the SSM
# agent runs it, and what the host holds afterwards, named by package folder.

$script:PackagesDir = $env:UPTYCS_WINDOWS_PACKAGES
if (-not $script:PackagesDir -or -not (Test-Path -LiteralPath (Join-Path $script:PackagesDir 'packages.json'))) {
    throw 'UPTYCS_WINDOWS_PACKAGES must name a folder written by test/windows/render.ts (npm test sets it)'
}
# The COM stand-in compiled once for every script this run starts (WindowsHost.psm1 loads it).
$env:UPTYCS_MSI_STANDIN_DLL = Join-Path $TestDrive 'MsiStandIn.dll'
if (-not (Test-Path -LiteralPath $env:UPTYCS_MSI_STANDIN_DLL)) {
    Add-Type -Path (Join-Path $PSScriptRoot 'MsiStandIn.cs') -OutputAssembly $env:UPTYCS_MSI_STANDIN_DLL -OutputType Library
}
$script:Packages = @{}
foreach ($p in (Get-Content -LiteralPath (Join-Path $script:PackagesDir 'packages.json') -Raw | ConvertFrom-Json)) {
    $script:Packages[$p.folder] = $p
}

# A product's name in assertions: its package folder without the health check suffix (protect-5.7.0.25).
function Get-ProductName([string]$ProductCode) {
    foreach ($p in $script:Packages.Values) {
        if ($p.properties.ProductCode -eq $ProductCode) { return ($p.folder -replace '-nohealth$', '') }
    }
    return $ProductCode
}

<#
.SYNOPSIS
A new host folder (its path has spaces, as "C:\Program Files" has) with host.json: the products of
-Installed (package folders) registered with the agent's service Running, unrelated software beside
them, and what the case sets.
#>
function New-WindowsHost {
    param(
        [string[]]$Installed = @(),
        [object]$Agent = 'healthy',
        [hashtable]$Forced = @{},
        [hashtable]$Service,
        [switch]$Wow6432
    )
    $dir = Join-Path $TestDrive "host $([guid]::NewGuid().ToString('N').Substring(0, 8))\Windows Host"
    New-Item -ItemType Directory -Force -Path (Join-Path $dir 'Windows\Temp'), (Join-Path $dir 'Program Files\Uptycs\osquery\log') | Out-Null
    $products = @(foreach ($folder in $Installed) {
            $props = $script:Packages[$folder].properties
            @{ ProductCode = $props.ProductCode; UpgradeCode = $props.UpgradeCode; DisplayName = $props.ProductName; DisplayVersion = $props.ProductVersion; Wow6432 = $Wow6432.IsPresent; Agent = $true }
        })
    # Software that is not the agent: a Windows Installer product, a key that is no product, and
    # one whose name looks like the agent's but whose key is no ProductCode.
    $products += @{ ProductCode = '{A1B2C3D4-0000-4000-8000-00000000C0DE}'; UpgradeCode = '{A1B2C3D4-0000-4000-8000-00000000FFFF}'; DisplayName = 'Microsoft Visual C++ 2015-2022 Redistributable (x64)'; DisplayVersion = '14.40.33810'; Wow6432 = $false; Agent = $false }
    $otherKeys = @(
        @{ Key = 'Notepad++'; DisplayName = 'Notepad++ (64-bit x64)'; DisplayVersion = '8.6.9' },
        @{ Key = 'osquery-portable'; DisplayName = 'osquery (portable zip)'; DisplayVersion = '5.2.3' }
    )
    $svc = $null
    if ($Installed.Count -gt 0) {
        $svc = @{ StartType = 'Automatic'; State = 'Running'; StartedAt = 0; Version = $script:Packages[$Installed[-1]].properties.ProductVersion }
    }
    if ($Service) { foreach ($k in $Service.Keys) { $svc[$k] = $Service[$k] } }
    if ($Service -and $Service.ContainsKey('Missing')) { $svc = $null }
    @{ products = $products; otherKeys = $otherKeys; service = $svc; agent = $Agent; slowSeconds = 3; forced = $Forced; calls = @(); rebooted = $false } |
        ConvertTo-Json -Depth 10 | Set-Content -LiteralPath (Join-Path $dir 'host.json')
    $dir
}

<#
.SYNOPSIS
Runs -Script of package folder -Package on the host as the SSM agent does (its own PowerShell
process, the folder Distributor unpacked the zip into) and returns ExitCode (whole, 3010 included),
Output (all of it, one string) and Seconds.
#>
function Invoke-PackageScript {
    param([Parameter(Mandatory)][string]$HostDir, [Parameter(Mandatory)][string]$Package, [Parameter(Mandatory)][string]$Script)
    $unpacked = Join-Path $HostDir "ProgramData\Amazon\SSM\Packages\_arnawsssmpackageuptycsagent\$Package"
    if (-not (Test-Path -LiteralPath $unpacked)) {
        New-Item -ItemType Directory -Force -Path $unpacked | Out-Null
        Copy-Item -Path (Join-Path $script:PackagesDir "$Package/*") -Destination $unpacked
    }
    $exitFile = Join-Path $HostDir 'exit-code'
    Remove-Item -LiteralPath $exitFile -ErrorAction SilentlyContinue
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    $output = & pwsh -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot 'Invoke-PackageScript.ps1') -HostDir $HostDir -Script (Join-Path $unpacked $Script) 2>&1
    $watch.Stop()
    [pscustomobject]@{
        ExitCode = [int](Get-Content -LiteralPath $exitFile)
        Output   = ($output | Out-String)
        Seconds  = $watch.Elapsed.TotalSeconds
    }
}

function Get-HostState([string]$HostDir) { Get-Content -LiteralPath (Join-Path $HostDir 'host.json') -Raw | ConvertFrom-Json -AsHashtable }

# The agent products installed, by name (protect-5.7.0.25), sorted.
function Get-InstalledAgent([string]$HostDir) {
    @((Get-HostState $HostDir).products | Where-Object { $_.Agent } | ForEach-Object { Get-ProductName $_.ProductCode } | Sort-Object)
}

# What msiexec was asked, one string a call: "<action> <product or package> <exit code>".
function Get-MsiexecCall([string]$HostDir) {
    @((Get-HostState $HostDir).calls | ForEach-Object {
            $target = $_.Target
            $name = if ($target -match '^\{[0-9A-Fa-f-]{36}\}$') { Get-ProductName $target }
            else { ((Split-Path -Leaf (Split-Path -Parent $target)) -replace '-nohealth$', '') }
            "$($_.Action) $name $($_.ExitCode)"
        })
}

# The service's state as the stand-in's Get-Service would report it now ('Missing' when there is none).
function Get-AgentServiceStatus([string]$HostDir) {
    $state = Get-HostState $HostDir
    if ($null -eq $state.service) { return 'Missing' }
    $code = "Import-Module '$(Join-Path $PSScriptRoot 'WindowsHost.psm1')' -ArgumentList '$(Join-Path $HostDir 'host.json')'; (Get-Service -Name uptycsosquery).Status.ToString()"
    (& pwsh -NoProfile -NonInteractive -Command $code).Trim()
}
